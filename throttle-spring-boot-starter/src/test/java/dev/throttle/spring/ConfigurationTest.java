package dev.throttle.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.http.HttpThrottle;
import dev.throttle.http.Rule;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.boot.web.servlet.FilterRegistrationBean;

/** How the properties become a throttle, and how a bad one stops the start-up. */
class ConfigurationTest {

  private final WebApplicationContextRunner app = new WebApplicationContextRunner()
      .withConfiguration(AutoConfigurations.of(ThrottleAutoConfiguration.class));

  private static final String[] API = {"throttle.routes[0].path=/api", "throttle.routes[0].rules[0].limit=100/s burst 20"};

  @Test
  void fiveLinesOfYamlMakeOneRuleAndTheServletFilter() {
    app.withPropertyValues(API).run(context -> {
      assertThat(context).hasNotFailed().hasSingleBean(HttpThrottle.class).hasSingleBean(FilterRegistrationBean.class);
      Rule rule = context.getBean(HttpThrottle.class).rules().get(0);
      assertThat(rule.toString()).isEqualTo("route-1: limit=100/s burst 20; path=/api; key=ip");
    });
  }

  @Test
  void theGatewaysVocabularyNamesRulesAsTheGatewayDoes() {
    app.withPropertyValues("throttle.routes[0].name=api", "throttle.routes[0].path=/api",
        "throttle.routes[0].methods=GET,POST",
        "throttle.routes[0].rules[0].name=per-ip", "throttle.routes[0].rules[0].limit=20/s burst 40",
        "throttle.routes[0].rules[1].name=per-key", "throttle.routes[0].rules[1].limit=100/s and 100000/day",
        "throttle.routes[0].rules[1].key=header:X-API-Key", "throttle.routes[0].rules[1].mode=delay",
        "throttle.routes[0].rules[1].max-wait=2s", "throttle.routes[0].rules[1].on-missing-key=reject",
        "throttle.routes[1].rules[0].limit=5/min", "throttle.routes[1].rules[0].dry-run=true",
        "throttle.routes[1].rules[0].cost=2")
        .run(context -> assertThat(context.getBean(HttpThrottle.class).rules()).extracting(Rule::toString)
            .containsExactly(
                "api.per-ip: limit=20/s burst 40; path=/api; methods=GET,POST; key=ip",
                "api.per-key: limit=100/s and 100000/day; path=/api; methods=GET,POST; key=header:X-API-Key;"
                    + " mode=delay; max-wait=2s; on-missing-key=reject",
                "route-2: limit=5/min; key=ip; cost=2; dry-run=true"));
  }

  @Test
  void withAMeterRegistryEachRulesCountersAreRegistered() {
    app.withPropertyValues(API).withBean(MeterRegistry.class, SimpleMeterRegistry::new).run(context -> {
      assertThat(context).hasNotFailed();
      MeterRegistry registry = context.getBean(MeterRegistry.class);
      assertThat(registry.find("throttle.http.requests").tag("rule", "route-1").counters())
          .extracting(c -> c.getId().getTag("outcome")).containsExactlyInAnyOrder("allowed", "delayed", "refused");
    });
  }

  /** An application without Micrometer (nor Actuator) on its class path starts, with its throttle and no meters. */
  @Test
  void withoutMicrometerTheApplicationStartsWithoutMeters() {
    app.withPropertyValues(API)
        .withClassLoader(new FilteredClassLoader("io.micrometer", "org.springframework.boot.actuate",
            "org.springframework.boot.health"))
        .run(context -> assertThat(context).hasNotFailed().hasSingleBean(HttpThrottle.class)
            .hasSingleBean(FilterRegistrationBean.class).doesNotHaveBean(ThrottleAutoConfiguration.Observer.class));
  }

  @Test
  void throttleEnabledFalseTurnsEverythingOff() {
    app.withPropertyValues(API).withPropertyValues("throttle.enabled=false").run(context -> assertThat(context)
        .hasNotFailed().doesNotHaveBean(HttpThrottle.class).doesNotHaveBean(FilterRegistrationBean.class)
        .doesNotHaveBean(ThrottleProperties.class));
  }

  @Test
  void aBadLimitFailsTheStartNamingTheProperty() {
    ThrottlePropertyException e = failure("throttle.routes[0].rules[0].limit=100/x");
    assertThat(e.property()).isEqualTo("throttle.routes[0].rules[0].limit");
    assertThat(e.value()).isEqualTo("100/x");
    assertThat(e.getMessage()).startsWith("Invalid property 'throttle.routes[0].rules[0].limit' = '100/x': ")
        .contains("Invalid limit '100/x'");
    FailureAnalysis analysis = new ThrottlePropertyFailureAnalyzer().analyze(e);
    assertThat(analysis.getDescription()).contains("Property: throttle.routes[0].rules[0].limit")
        .contains("Value: \"100/x\"");
    assertThat(analysis.getAction()).contains("throttle.enabled=false");
  }

  @Test
  void otherBadValuesNameTheirProperty() {
    assertThat(failure("throttle.routes[0].rules[0].key=cookie:x").property())
        .isEqualTo("throttle.routes[0].rules[0].key");
    assertThat(failure("throttle.routes[0].rules[0].mode=delay").property())
        .isEqualTo("throttle.routes[0].rules[0].max-wait");
    assertThat(failure("throttle.routes[0].rules[0].mode=delay", "throttle.routes[0].rules[0].max-wait=soon")
        .property()).isEqualTo("throttle.routes[0].rules[0].max-wait");
    assertThat(failure("throttle.routes[0].rules[0].cost=500").reason()).contains("exceeds the burst");
    assertThat(failure("throttle.store=mongodb://x").property()).isEqualTo("throttle.store");
    assertThat(failure("throttle.store=redis://127.0.0.1:6379", "throttle.on-redis-failure=retry").property())
        .isEqualTo("throttle.on-redis-failure");
    assertThat(failure("throttle.trusted-proxies=10.0.0.0/99").property()).isEqualTo("throttle.trusted-proxies");
    assertThat(failure("throttle.rate-limit-headers=draft-99").property()).isEqualTo("throttle.rate-limit-headers");
    assertThat(failure("throttle.routes[0].path=api").property()).isEqualTo("throttle.routes[0].path");
  }

  @Test
  void noRoutesIsAnErrorThatSaysHowToTurnThrottleOff() {
    app.run(context -> {
      assertThat(context).hasFailed();
      assertThat(cause(context.getStartupFailure()).getMessage()).contains("throttle.routes")
          .contains("throttle.enabled=false");
    });
  }

  private ThrottlePropertyException failure(String... properties) {
    ThrottlePropertyException[] found = new ThrottlePropertyException[1];
    app.withPropertyValues(API).withPropertyValues(properties).run(context -> {
      assertThat(context).hasFailed();
      found[0] = cause(context.getStartupFailure());
    });
    return found[0];
  }

  private static ThrottlePropertyException cause(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof ThrottlePropertyException e) {
        return e;
      }
    }
    throw new AssertionError("no ThrottlePropertyException in " + t, t);
  }
}
