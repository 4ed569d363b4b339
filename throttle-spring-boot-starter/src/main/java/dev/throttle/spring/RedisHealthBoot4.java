package dev.throttle.spring;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;

/**
 * Boot 4.0's health indicator of the Redis store ({@link RedisStoreHealth}): the {@code throttle} component of
 * {@code /actuator/health} (Boot 4 moved the health API to {@code org.springframework.boot.health.contributor}).
 * Compiled against spring-boot-health 4.0 in both builds; skipped on Boot 3.5 by its ConditionalOnClass.
 */
@AutoConfiguration(after = ThrottleAutoConfiguration.class)
@ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
@ConditionalOnBean(ThrottleAutoConfiguration.Stores.class)
@Conditional(OnRedisStore.class)
public class RedisHealthBoot4 {

  @Bean
  HealthIndicator throttleHealthIndicator(ObjectProvider<ThrottleAutoConfiguration.Stores> stores) {
    return () -> {
      RedisStoreHealth h = RedisStoreHealth.of(stores.getObject());
      return Health.status(new Status(h.status())).withDetails(h.details()).build();
    };
  }
}
