package example.servlet;

import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/** A Spring MVC API whose rate limits are all in application.yml: no Throttle code here. */
@SpringBootApplication
public class ExampleApplication {

  public static void main(String[] args) {
    SpringApplication.run(ExampleApplication.class, args);
  }

  @RestController
  static class Api {
    @GetMapping("/api/hello")
    Map<String, String> hello() {
      return Map.of("hello", "world");
    }

    @PostMapping("/api/login")
    Map<String, String> login() {
      return Map.of("token", "t0k3n");
    }
  }
}
