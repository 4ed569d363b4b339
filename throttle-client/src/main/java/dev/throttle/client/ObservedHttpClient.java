package dev.throttle.client;

import java.io.IOException;
import java.net.Authenticator;
import java.net.CookieHandler;
import java.net.ProxySelector;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link AttemptListener#observing}: a {@link HttpClient} that delegates everything and reports each exchange. */
final class ObservedHttpClient extends HttpClient {

  private static final Logger log = LoggerFactory.getLogger(ObservedHttpClient.class);

  private final HttpClient delegate;
  private final AttemptListener listener;

  ObservedHttpClient(HttpClient delegate, AttemptListener listener) {
    this.delegate = delegate;
    this.listener = listener;
  }

  @Override
  public <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> handler)
      throws IOException, InterruptedException {
    safely(() -> listener.onSend(request));
    try {
      HttpResponse<T> response = delegate.send(request, handler);
      safely(() -> listener.onResponse(request, response));
      return response;
    } catch (IOException | InterruptedException | RuntimeException e) {
      safely(() -> listener.onError(request, e));
      throw e;
    }
  }

  @Override
  public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
    return sendAsync(request, handler, null);
  }

  @Override
  public <T> CompletableFuture<HttpResponse<T>> sendAsync(HttpRequest request, HttpResponse.BodyHandler<T> handler,
      HttpResponse.PushPromiseHandler<T> push) {
    safely(() -> listener.onSend(request));
    CompletableFuture<HttpResponse<T>> exchange;
    try {
      exchange = push == null ? delegate.sendAsync(request, handler) : delegate.sendAsync(request, handler, push);
    } catch (RuntimeException e) {
      safely(() -> listener.onError(request, e));
      throw e;
    }
    // Our own future, so that a cancel by the caller reaches the exchange (a dependent stage would not).
    CompletableFuture<HttpResponse<T>> result = new CompletableFuture<>() {
      @Override
      public boolean cancel(boolean mayInterruptIfRunning) {
        exchange.cancel(mayInterruptIfRunning);
        return super.cancel(mayInterruptIfRunning);
      }
    };
    exchange.whenComplete((response, error) -> {
      if (error != null) {
        safely(() -> listener.onError(request, error));
        result.completeExceptionally(error);
      } else {
        safely(() -> listener.onResponse(request, response));
        result.complete(response);
      }
    });
    return result;
  }

  private static void safely(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      log.warn("an attempt listener failed; the exchange goes on", e);
    }
  }

  @Override
  public Optional<CookieHandler> cookieHandler() {
    return delegate.cookieHandler();
  }

  @Override
  public Optional<Duration> connectTimeout() {
    return delegate.connectTimeout();
  }

  @Override
  public Redirect followRedirects() {
    return delegate.followRedirects();
  }

  @Override
  public Optional<ProxySelector> proxy() {
    return delegate.proxy();
  }

  @Override
  public SSLContext sslContext() {
    return delegate.sslContext();
  }

  @Override
  public SSLParameters sslParameters() {
    return delegate.sslParameters();
  }

  @Override
  public Optional<Authenticator> authenticator() {
    return delegate.authenticator();
  }

  @Override
  public Version version() {
    return delegate.version();
  }

  @Override
  public Optional<Executor> executor() {
    return delegate.executor();
  }

  @Override
  public WebSocket.Builder newWebSocketBuilder() {
    return delegate.newWebSocketBuilder();
  }

  @Override
  public String toString() {
    return "Observed[" + delegate + "]";
  }
}
