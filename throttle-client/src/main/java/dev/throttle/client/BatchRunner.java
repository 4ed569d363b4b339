package dev.throttle.client;

import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs jobs (a list, or a stream as an {@link Iterator}) through a {@link ThrottledHttpClient}: exactly one result
 * per job, delivered in input order to a {@link BatchListener}, and {@link Stats} at the end.
 *
 * <pre>{@code
 * Batch batch = BatchRunner.start(client, jobs.iterator(), BodyHandlers.ofString(), listener);
 * Stats stats = batch.completion().join();
 * }</pre>
 *
 * <p>The input is read by one thread ({@code throttle-batch-N}) as long as fewer than {@code window} jobs are
 * waiting for their result to be delivered (read but not yet delivered, because a job before them has not ended):
 * memory stays bounded on an endless stream, and the throttle, not the reader, sets the pace. Results are delivered
 * by a second thread. Both end with the batch.
 */
public final class BatchRunner {

  private static final Logger log = LoggerFactory.getLogger(BatchRunner.class);
  private static final AtomicInteger BATCHES = new AtomicInteger();

  /** The default window: enough to keep any realistic throttle busy while a slow job holds up delivery. */
  public static final int DEFAULT_WINDOW = 4096;

  private BatchRunner() {}

  /** Starts a batch with the {@link #DEFAULT_WINDOW}. */
  public static <T> Batch start(ThrottledHttpClient client, Iterator<Job> jobs, HttpResponse.BodyHandler<T> handler,
      BatchListener<T> listener) {
    return start(client, jobs, handler, listener, DEFAULT_WINDOW);
  }

  /**
   * Starts a batch: returns at once, the jobs run in the background.
   *
   * @param window the most jobs read but whose result is not yet delivered (at least 1)
   * @throws IllegalArgumentException if {@code window} is below 1
   */
  public static <T> Batch start(ThrottledHttpClient client, Iterator<Job> jobs, HttpResponse.BodyHandler<T> handler,
      BatchListener<T> listener, int window) {
    if (window < 1) {
      throw new IllegalArgumentException("the window must be at least 1, got " + window);
    }
    BatchImpl<T> batch = new BatchImpl<>(Objects.requireNonNull(client, "client"), Objects.requireNonNull(jobs, "jobs"),
        Objects.requireNonNull(handler, "handler"), Objects.requireNonNull(listener, "listener"), window);
    batch.reader.start();
    return batch;
  }

  /**
   * Runs {@code jobs} and returns their results in input order with the batch's {@link Stats}. If interrupted,
   * cancels the batch, waits for the cancelled results and rethrows.
   *
   * <pre>{@code
   * List<Job> jobs = List.of(Job.of("1", HttpRequest.newBuilder(URI.create("https://api.example/items/1")).build()));
   * BatchResult<String> done = BatchRunner.run(client, jobs, BodyHandlers.ofString());
   * System.out.println(done.stats().summaryLine());
   * }</pre>
   */
  public static <T> BatchResult<T> run(ThrottledHttpClient client, List<Job> jobs,
      HttpResponse.BodyHandler<T> handler) throws InterruptedException {
    List<JobResult<T>> results = Collections.synchronizedList(new ArrayList<>(jobs.size()));
    Batch batch = start(client, List.copyOf(jobs).iterator(), handler, new BatchListener<T>() {
      @Override
      public void onResult(JobResult<T> result) {
        results.add(result);
      }
    });
    Stats stats;
    try {
      stats = batch.completion().get();
    } catch (InterruptedException e) {
      batch.cancel();
      batch.completion().handle((s, err) -> null).join();
      throw e;
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
    return new BatchResult<>(results, stats);
  }

  private static final class BatchImpl<T> implements Batch {
    private final ThrottledHttpClient client;
    private final Iterator<Job> jobs;
    private final HttpResponse.BodyHandler<T> handler;
    private final BatchListener<T> listener;
    private final Semaphore window;
    private final Thread reader;
    private final ExecutorService delivery;
    private final CompletableFuture<Stats> completion = new CompletableFuture<>();
    private final Stats.Recorder recorder = new Stats.Recorder();
    private final Map<Long, Call<T>> running = new ConcurrentHashMap<>();
    private volatile boolean cancelled;

    // Guarded by "this".
    private long submitted;
    private boolean inputComplete;
    private Throwable inputError;

    // Delivery thread only.
    private final Map<Long, JobResult<T>> waiting = new HashMap<>();
    private long nextToDeliver;

    BatchImpl(ThrottledHttpClient client, Iterator<Job> jobs, HttpResponse.BodyHandler<T> handler,
        BatchListener<T> listener, int window) {
      this.client = client;
      this.jobs = jobs;
      this.handler = handler;
      this.listener = listener;
      this.window = new Semaphore(window);
      int id = BATCHES.incrementAndGet();
      this.reader = new Thread(this::read, "throttle-batch-" + id);
      this.reader.setDaemon(true);
      this.delivery = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "throttle-batch-" + id + "-results");
        t.setDaemon(true);
        return t;
      });
    }

    private void read() {
      long index = 0;
      try {
        while (true) {
          window.acquireUninterruptibly();
          if (cancelled || !jobs.hasNext()) {
            window.release();
            break;
          }
          Job job = Objects.requireNonNull(jobs.next(), "the input gave a null job");
          long i = index++;
          synchronized (this) {
            submitted = index;
          }
          Call<T> call;
          try {
            call = client.send(job.request(), handler);
          } catch (IllegalStateException closed) {
            arrive(i, job, new Outcome<>(Outcome.Status.CANCELLED, null, 0, "cancelled: " + closed.getMessage(),
                false, 0, 0, 0));
            continue;
          }
          running.put(i, call);
          if (cancelled) {
            call.cancel();
          }
          call.outcome().whenComplete((outcome, error) -> arrive(i, job, outcome));
        }
        // Cancelled: the rest of the input still gets a result each.
        while (cancelled && jobs.hasNext()) {
          Job job = Objects.requireNonNull(jobs.next(), "the input gave a null job");
          long i = index++;
          synchronized (this) {
            submitted = index;
          }
          arrive(i, job, new Outcome<>(Outcome.Status.CANCELLED, null, 0, "cancelled", false, 0, 0, 0));
        }
      } catch (RuntimeException e) {
        log.error("reading the batch's input failed after {} jobs; the jobs read go on", index, e);
        synchronized (this) {
          inputError = e;
        }
      }
      synchronized (this) {
        inputComplete = true;
      }
      deliverLater(this::deliver);
    }

    private void arrive(long index, Job job, Outcome<T> outcome) {
      running.remove(index);
      recorder.record(outcome);
      Progress p = progress();
      JobResult<T> result = new JobResult<>(index, job, outcome);
      deliverLater(() -> {
        safely(() -> listener.onProgress(p));
        waiting.put(index, result);
        deliver();
      });
    }

    private void deliverLater(Runnable task) {
      delivery.execute(task);
    }

    /** On the delivery thread: hands over the results that are next in order, then ends the batch if all are. */
    private void deliver() {
      JobResult<T> next;
      while ((next = waiting.remove(nextToDeliver)) != null) {
        JobResult<T> r = next;
        safely(() -> listener.onResult(r));
        nextToDeliver++;
        window.release();
      }
      boolean finished;
      Throwable error;
      synchronized (this) {
        finished = inputComplete && nextToDeliver == submitted;
        error = inputError;
      }
      if (finished && !completion.isDone()) {
        delivery.shutdown();
        if (error != null) {
          completion.completeExceptionally(error);
        } else {
          completion.complete(recorder.snapshot());
        }
      }
    }

    private static void safely(Runnable r) {
      try {
        r.run();
      } catch (RuntimeException e) {
        log.error("a batch listener failed; the batch goes on", e);
      }
    }

    @Override
    public CompletableFuture<Stats> completion() {
      return completion.copy();
    }

    @Override
    public void cancel() {
      cancelled = true;
      window.release(); // wake the reader if it waits for room
      for (Call<T> call : running.values()) {
        call.cancel();
      }
    }

    @Override
    public boolean isCancelled() {
      return cancelled;
    }

    @Override
    public Stats stats() {
      return recorder.snapshot();
    }

    @Override
    public synchronized Progress progress() {
      return recorder.progress(submitted, inputComplete);
    }
  }
}
