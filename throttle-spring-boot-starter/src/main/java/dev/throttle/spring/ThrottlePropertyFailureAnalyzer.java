package dev.throttle.spring;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Reports an invalid {@code throttle.*} property at start-up the way Boot reports a property it cannot bind. */
final class ThrottlePropertyFailureAnalyzer extends AbstractFailureAnalyzer<ThrottlePropertyException> {

  @Override
  protected FailureAnalysis analyze(Throwable root, ThrottlePropertyException cause) {
    String description = "Invalid Throttle configuration:\n\n    Property: " + cause.property() + "\n"
        + (cause.value() == null ? "" : "    Value: \"" + cause.value() + "\"\n")
        + "    Reason: " + cause.reason() + "\n";
    return new FailureAnalysis(description, "Correct '" + cause.property() + "' in the application's configuration"
        + " (application.yml), or turn Throttle off with throttle.enabled=false.", cause);
  }
}
