package dev.throttle.gateway;

import org.junit.jupiter.api.AfterEach;

/** What the gateway tests share: a real upstream, and the gateway under test, both stopped after each test. */
abstract class GatewayTests {

  final Upstream upstream = new Upstream();
  Gateway gateway;

  @AfterEach
  void stopGatewayAndUpstream() {
    if (gateway != null) {
      gateway.close();
    }
    upstream.close();
  }
}
