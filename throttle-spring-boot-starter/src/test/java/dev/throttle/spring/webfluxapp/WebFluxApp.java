package dev.throttle.spring.webfluxapp;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/** A WebFlux application on Reactor Netty; its throttling is configured only by its YAML. */
@SpringBootApplication
public class WebFluxApp {

  @RestController
  static class Api {
    @GetMapping({"/api/items", "/api/slow", "/api/keyed", "/api/wait", "/api/encoded", "/api/held", "/api/metered", "/open"})
    Mono<String> items() {
      return Mono.just("ok");
    }
  }
}
