package dev.throttle.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.throttle.core.Decision;
import dev.throttle.core.Limit;
import dev.throttle.core.Props;
import dev.throttle.core.KeyedRateLimiter;
import dev.throttle.core.ReferenceBucket;
import dev.throttle.core.Vectors;
import io.lettuce.core.RedisClient;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Lua script alone, called with explicit times: the shared vector table (unchanged), the exact-fraction model
 * on random limits, exactness at the edges of the number range, and the limits refused for exactness.
 */
class LuaScriptTest {

  private static RedisServer server;
  private static RedisClient client;
  private static StatefulRedisConnection<byte[], byte[]> connection;
  private static RedisCommands<byte[], byte[]> redis;
  private static int scenario;

  @BeforeAll
  static void startRedis() {
    server = RedisServer.start();
    client = RedisClient.create(server.uri());
    connection = client.connect(ByteArrayCodec.INSTANCE);
    redis = connection.sync();
    assertThat(redis.scriptLoad(BucketScript.SOURCE_BYTES)).isEqualTo(BucketScript.SHA);
  }

  @AfterAll
  static void stopRedis() {
    connection.close();
    client.shutdown();
    server.close();
  }

  /** One bucket of the script under test, on fresh keys, its time given in microseconds since 0. */
  private static final class Bucket {
    final BucketScript script;
    final byte[][] keys;

    Bucket(Limit limit) {
      script = new BucketScript(limit);
      keys = new Keys<String>("script-test:" + (++scenario) + ":", limit, s -> s.getBytes(StandardCharsets.UTF_8))
          .of("k");
    }

    BucketScript.Result call(int op, long micros, long cost, long maxWaitNanos) {
      List<Object> reply = redis.evalsha(BucketScript.SHA, ScriptOutputType.MULTI, keys,
          script.args(op, cost, micros, 3_600_000, maxWaitNanos));
      return script.parse(reply);
    }

    Decision decide(long micros, long cost) {
      return call(BucketScript.DECIDE, micros, cost, 0).decision();
    }
  }

  /** The scenarios the script must follow: its cancellation gives tokens back only to the last reservation. */
  static Stream<Vectors.Scenario> scenarios() {
    return Vectors.load().stream().filter(s -> s.holdsFor(KeyedRateLimiter.Cancellation.IF_LAST));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("scenarios")
  void theScriptGivesTheVectorTablesDecisions(Vectors.Scenario s) {
    Bucket bucket = new Bucket(Limit.parse(s.limit()));
    List<BucketScript.Result> reservations = new ArrayList<>();
    List<Long> dues = new ArrayList<>();
    for (Vectors.Request r : s.requests()) {
      assertThat((s.unixStart() + r.t()) % 1000).as("the table's times are whole microseconds").isZero();
      String where = "line " + r.line();
      long now = (s.unixStart() + r.t()) / 1000; // the script's time: Unix microseconds
      switch (r.op()) {
        case DECIDE -> assertThat(bucket.decide(now, r.cost())).as(where).isEqualTo(r.expected());
        case RESERVE -> {
          BucketScript.Result result = bucket.call(BucketScript.RESERVE, now, r.cost(), r.maxWaitNanos());
          reservations.add(result);
          dues.add(now + (result.decision().waitNanos() + 999) / 1000);
          int flag = switch (r.outcome()) {
            case READY -> BucketScript.ALLOWED;
            case WAITING -> BucketScript.RESERVED;
            case REFUSED -> 0;
          };
          assertThat(result.flag()).as(where).isEqualTo(flag);
          assertThat(result.flag() == BucketScript.RESERVED ? Vectors.waiting(result.decision())
              : result.decision()).as(where).isEqualTo(r.expected());
        }
        case CANCEL -> {
          // Only a reservation still waiting is cancelled (RedisReservation's part); then the script decides.
          BucketScript.Result reserved = reservations.get(r.reservation() - 1);
          Vectors.Cancel outcome = Vectors.Cancel.NONE;
          if (reserved.flag() == BucketScript.RESERVED && now < dues.get(r.reservation() - 1)) {
            List<Object> back = redis.evalsha(BucketScript.SHA, ScriptOutputType.MULTI, bucket.keys,
                bucket.script.cancelArgs(now, 3_600_000, reserved.before(), reserved.after()));
            outcome = back.equals(List.of(1L)) ? Vectors.Cancel.REFUNDED : Vectors.Cancel.KEPT;
          }
          assertThat(outcome).as(where).isEqualTo(r.cancel());
        }
      }
    }
  }

  @Test
  void agreesWithTheExactFractionModelOnRandomLimitsAndRequests() {
    Props.forAll("lua script agrees with the reference model", 150, r -> {
      Limit limit = Props.limit(r, 1.0 / 86_400, 1e9);
      Bucket bucket = new Bucket(limit);
      ReferenceBucket reference = new ReferenceBucket(limit);
      long t = 0;
      for (int i = 0; i < 40; i++) {
        t += Math.min(Props.step(r, limit), 400L * 86_400_000_000_000L) / 1000 * 1000;
        long cost = Props.cost(r, limit);
        assertThat(bucket.decide(t / 1000, cost)).as("%s: %d tokens at %d ns", limit, cost, t)
            .isEqualTo(reference.decide(t, cost));
      }
    });
  }

  @Test
  void staysExactAtTodaysRedisTimeAndAtTheLargestBurst() {
    // Redis TIME is about 1.8e15 microseconds today. 1024/s is 16/15625 tokens per microsecond: its largest burst on
    // Redis makes the capacity C = burst * 15625 credits just below 2^51.
    long now = 1_786_543_210_123_456L;
    long maxBurst = BucketScript.MAX_CREDITS / 15_625;
    Limit limit = Limit.parse("1024/s burst " + maxBurst);
    Bucket bucket = new Bucket(limit);
    ReferenceBucket reference = new ReferenceBucket(limit);
    long[][] requests = {{0, maxBurst}, {1, 1}, {977, 1}, {978, 1}, {86_400_000_000L, maxBurst},
        {86_400_000_000L * 2, maxBurst - 1}, {86_400_000_000L * 2 + 1, 2}};
    for (long[] q : requests) {
      assertThat(bucket.decide(now + q[0], q[1])).as("%d tokens at +%d us", q[1], q[0])
          .isEqualTo(reference.decide(q[0] * 1000, q[1]));
    }
    // And the fastest rate with an awkward denominator.
    Limit fast = Limit.parse("999999999/s burst 1000000");
    Bucket fastBucket = new Bucket(fast);
    ReferenceBucket fastReference = new ReferenceBucket(fast);
    long[][] fastRequests = {{0, 1_000_000}, {0, 7}, {3, 2_999}, {1_000, 999_998}, {5_000_000, 1_000_000}};
    for (long[] q : fastRequests) {
      assertThat(fastBucket.decide(now + q[0], q[1])).as("%d tokens at +%d us", q[1], q[0])
          .isEqualTo(fastReference.decide(q[0] * 1000, q[1]));
    }
  }

  @Test
  void aReservationIsWrittenAsOfItsDueTimeAndCanBeGivenBack() {
    Bucket bucket = new Bucket(Limit.parse("3/s burst 1"));
    assertThat(bucket.decide(0, 1).isAllowed()).isTrue();
    BucketScript.Result reserved = bucket.call(BucketScript.RESERVE, 0, 1, 1_000_000_000);
    assertThat(reserved.flag()).isEqualTo(BucketScript.RESERVED);
    // Due at 333334 us, the wait rounded up to a microsecond (the key says so). With burst 1 the bucket is full at
    // the exact due time and gains nothing until the grant: so the reset counts from 333334 us (the core's
    // nanosecond clock has the same effect, at a nanosecond).
    assertThat(reserved.decision()).isEqualTo(Decision.refused(0, 333_333_334, 666_667_334));
    ByteBuffer state = ByteBuffer.wrap(reserved.after()[0]).order(ByteOrder.LITTLE_ENDIAN);
    assertThat(reserved.after()[0]).hasSize(16);
    assertThat(state.getDouble()).isEqualTo(333_334.0);
    assertThat(state.getDouble()).isEqualTo(0.0);
    // Queued behind it: the reset as if this request had queued too (full one token after its own grant).
    assertThat(bucket.decide(100, 1)).as("queued behind the reservation")
        .isEqualTo(Decision.refused(0, 666_567_334, 999_901_334));
    byte[][] cancel = bucket.script.cancelArgs(200, 3_600_000, reserved.before(), reserved.after());
    List<Object> back = redis.evalsha(BucketScript.SHA, ScriptOutputType.MULTI, bucket.keys, cancel);
    assertThat((Object) back).isEqualTo(List.of(1L));
    assertThat(bucket.decide(200, 1)).isEqualTo(Decision.refused(0, 333_133_334, 333_133_334));
    List<Object> again = redis.evalsha(BucketScript.SHA, ScriptOutputType.MULTI, bucket.keys, cancel);
    assertThat((Object) again)
        .as("only once: the key no longer holds what the reservation wrote")
        .isEqualTo(List.of(0L));
  }

  @Test
  void refusesLimitsItCannotCountExactlyNamingTheLargestBurst() {
    // 1024/s: the core counts it exactly up to a burst of about 5.9e11, Redis up to 2^51 / 15625.
    long maxBurst = BucketScript.MAX_CREDITS / 15_625;
    assertThatThrownBy(() -> new BucketScript(Limit.parse("10/s and 1024/s burst " + (maxBurst + 1))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'10/s and 1024/s burst " + (maxBurst + 1) + "'")
        .hasMessageContaining("the largest burst Redis can count exactly at that rate is " + maxBurst);
    assertThat(new BucketScript(Limit.parse("1024/s burst " + maxBurst)).buckets).isEqualTo(1);
    // Interval refill: an empty bucket must fill within 2^51 microseconds (71 years).
    long maxDays = BucketScript.MAX_CREDITS / 86_400_000_000L;
    assertThatThrownBy(() -> new BucketScript(Limit.parse("1/day burst " + (maxDays + 1) + " every 1day")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("is " + maxDays);
    assertThat(new BucketScript(Limit.parse("1/day burst " + maxDays + " every 1day")).buckets).isEqualTo(1);
  }
}
