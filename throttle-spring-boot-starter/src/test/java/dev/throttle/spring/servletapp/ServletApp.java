package dev.throttle.spring.servletapp;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** A Spring MVC application on Tomcat; its throttling is configured only by its YAML. */
@SpringBootApplication
public class ServletApp {

  @RestController
  static class Api {
    @GetMapping({"/api/items", "/api/slow", "/api/keyed", "/api/wait", "/api/encoded", "/api/held", "/api/metered", "/api/leased", "/open"})
    String items() {
      return "ok";
    }
  }
}
