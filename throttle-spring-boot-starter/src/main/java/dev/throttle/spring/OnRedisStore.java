package dev.throttle.spring;

import java.util.Locale;
import org.springframework.context.annotation.Condition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;

/** Matches when {@code throttle.store} is a Redis URI (what {@link ThrottleSettings#isRedis} accepts as one). */
final class OnRedisStore implements Condition {

  @Override
  public boolean matches(ConditionContext context, AnnotatedTypeMetadata metadata) {
    String store = context.getEnvironment().getProperty("throttle.store", "memory");
    return store.strip().toLowerCase(Locale.ROOT).startsWith("redis");
  }
}
