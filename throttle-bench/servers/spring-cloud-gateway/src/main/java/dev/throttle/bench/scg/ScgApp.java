package dev.throttle.bench.scg;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.cloud.gateway.filter.ratelimit.KeyResolver;
import org.springframework.context.annotation.Bean;
import reactor.core.publisher.Mono;

/**
 * Spring Cloud Gateway in front of the bench's upstream, every request limited by SCG's own {@code RedisRateLimiter}
 * per client address (the key {@code throttle gateway --limit} uses by default), as its documentation configures it.
 * Routes and limits in application.yml; upstream, port and Redis from the command line.
 */
@SpringBootApplication
public class ScgApp {

  public static void main(String[] args) {
    SpringApplication.run(ScgApp.class, args);
  }

  /** Per client address, as the gateway's default key {@code ip}. */
  @Bean
  KeyResolver byAddress() {
    return exchange -> Mono.just(exchange.getRequest().getRemoteAddress().getAddress().getHostAddress());
  }
}
