package dev.throttle.spring;

import dev.throttle.core.KeyedRateLimiter;
import dev.throttle.http.HttpThrottle;
import dev.throttle.http.StoreFactory;
import dev.throttle.http.servlet.ThrottleFilter;
import dev.throttle.redis.RedisLimits;
import dev.throttle.redis.RedisRateLimiter;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.server.WebFilter;
import reactor.core.publisher.Mono;

/**
 * Rate limiting from {@code application.yml} ({@link ThrottleProperties}): one {@link HttpThrottle} bean built from
 * {@code throttle.routes}, in memory or on the Redis of {@code throttle.store}, installed as the Servlet
 * {@link ThrottleFilter} in a Servlet application and as the {@link ThrottleWebFilter} in a WebFlux one. An
 * application that defines its own {@code HttpThrottle} bean gets that one installed instead. Everything is off with
 * {@code throttle.enabled=false}.
 *
 * <p>At shutdown the throttle is closed first of all (before the web server's graceful shutdown waits for requests
 * in flight), so that requests waiting their turn are answered {@code 503} with {@code Retry-After} at once.
 */
@AutoConfiguration
@ConditionalOnWebApplication
@ConditionalOnProperty(prefix = "throttle", name = "enabled", havingValue = "true", matchIfMissing = true)
@EnableConfigurationProperties(ThrottleProperties.class)
public class ThrottleAutoConfiguration {

  private static final Logger log = LoggerFactory.getLogger(ThrottleAutoConfiguration.class);

  /** The Redis connection of {@code throttle.store}, when it is a Redis URI; closed with the context. */
  static final class Stores implements AutoCloseable {
    final StoreFactory factory;
    final RedisLimits redis; // null for memory
    /** Each rule's Redis store by the rule's name, as the throttle made them (for metrics and health). */
    final Map<String, RedisRateLimiter<String>> redisStores = new ConcurrentHashMap<>();

    Stores(ThrottleProperties p) {
      if (ThrottleSettings.isRedis(p)) {
        Function<RedisLimits, StoreFactory> stores = ThrottleSettings.redis(p);
        this.redis = ThrottleSettings.connect(p);
        StoreFactory redisFactory = stores.apply(redis);
        this.factory = rule -> {
          KeyedRateLimiter<String> store = redisFactory.create(rule);
          if (store instanceof RedisRateLimiter<String> r) {
            redisStores.put(rule.name(), r);
          }
          return store;
        };
      } else {
        this.redis = null;
        this.factory = ThrottleSettings.memory(p);
      }
    }

    @Override
    public void close() {
      if (redis != null) {
        redis.close();
      }
    }
  }

  /**
   * Watches the throttle that the starter builds: given its builder before, and the throttle and its stores after
   * (the Micrometer meters, when the application has Micrometer).
   */
  interface Observer {
    void configure(HttpThrottle.Builder builder);

    void built(HttpThrottle throttle, Stores stores);
  }

  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean(HttpThrottle.class)
  Stores throttleStores(ThrottleProperties properties) {
    return new Stores(properties);
  }

  /** The throttle of {@code throttle.routes}. */
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  public HttpThrottle httpThrottle(ThrottleProperties properties, Stores stores, ObjectProvider<Observer> observers) {
    HttpThrottle.Builder b = ThrottleSettings.builder(properties).trustedProxies(ThrottleSettings.proxies(properties))
        .stores(stores.factory);
    observers.orderedStream().forEach(o -> o.configure(b));
    HttpThrottle throttle;
    try {
      throttle = b.build();
    } catch (IllegalArgumentException e) {
      throw new ThrottlePropertyException("throttle.routes", null, e.getMessage(), e);
    }
    log.info("Throttle: {} rule(s) on {}: {}", throttle.rules().size(),
        stores.redis == null ? "memory" : stores.redis, throttle.rules());
    observers.orderedStream().forEach(o -> o.built(throttle, stores));
    return throttle;
  }

  /** Micrometer's meters of the throttle, when the application has Micrometer (and a {@code MeterRegistry}). */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "io.micrometer.core.instrument.MeterRegistry")
  static class Metrics {
    @Bean
    Observer throttleMetrics(ObjectProvider<io.micrometer.core.instrument.MeterRegistry> registry) {
      return new ThrottleMetrics(registry);
    }
  }

  /** Closes the throttle as the application starts to stop, before the web server's graceful shutdown. */
  @Bean
  SmartLifecycle throttleShutdown(ObjectProvider<HttpThrottle> throttle) {
    return new SmartLifecycle() {
      private volatile boolean running;

      @Override
      public void start() {
        running = true;
      }

      @Override
      public void stop() {
        running = false;
        throttle.ifAvailable(HttpThrottle::close);
      }

      @Override
      public boolean isRunning() {
        return running;
      }

      @Override
      public int getPhase() {
        return Integer.MAX_VALUE; // stopped first: the web server's graceful shutdown runs in lower phases
      }
    };
  }

  /** A Servlet application: the existing {@link ThrottleFilter}, async, also on its own ASYNC dispatches. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
  @ConditionalOnClass(Filter.class)
  static class Servlet {
    @Bean
    @ConditionalOnMissingBean(name = "throttleFilter")
    FilterRegistrationBean<ThrottleFilter> throttleFilter(HttpThrottle throttle, ThrottleProperties properties) {
      FilterRegistrationBean<ThrottleFilter> r = new FilterRegistrationBean<>(new ThrottleFilter(throttle));
      r.setName("throttle");
      r.setAsyncSupported(true);
      // REQUEST is throttled; ASYNC lets the filter see its delayed requests arrive (and passes them on).
      r.setDispatcherTypes(DispatcherType.REQUEST, DispatcherType.ASYNC);
      r.setOrder(properties.getFilterOrder());
      r.addUrlPatterns("/*");
      return r;
    }
  }

  /** A WebFlux application: the {@link ThrottleWebFilter}. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.REACTIVE)
  @ConditionalOnClass({WebFilter.class, Mono.class})
  static class Reactive {
    @Bean
    @ConditionalOnMissingBean
    ThrottleWebFilter throttleWebFilter(HttpThrottle throttle, ThrottleProperties properties) {
      return new ThrottleWebFilter(throttle, properties.getFilterOrder());
    }
  }
}
