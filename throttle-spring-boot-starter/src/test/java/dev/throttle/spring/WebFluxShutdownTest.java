package dev.throttle.spring;

import dev.throttle.spring.webfluxapp.WebFluxApp;

class WebFluxShutdownTest extends ShutdownContract {
  @Override
  Class<?> application() {
    return WebFluxApp.class;
  }

  @Override
  String configName() {
    return "webflux";
  }
}
