package dev.throttle.spring;

import dev.throttle.spring.servletapp.ServletApp;

class ServletShutdownTest extends ShutdownContract {
  @Override
  Class<?> application() {
    return ServletApp.class;
  }

  @Override
  String configName() {
    return "servlet";
  }
}
