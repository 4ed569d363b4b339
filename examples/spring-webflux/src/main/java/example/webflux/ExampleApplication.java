package example.webflux;

import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

/** A WebFlux API whose rate limits are all in application.yml: no Throttle code here. */
@SpringBootApplication
public class ExampleApplication {

  public static void main(String[] args) {
    SpringApplication.run(ExampleApplication.class, args);
  }

  @RestController
  static class Api {
    @GetMapping("/api/hello")
    Mono<Map<String, String>> hello() {
      return Mono.just(Map.of("hello", "world"));
    }

    @PostMapping("/api/login")
    Mono<Map<String, String>> login() {
      return Mono.just(Map.of("token", "t0k3n"));
    }
  }
}
