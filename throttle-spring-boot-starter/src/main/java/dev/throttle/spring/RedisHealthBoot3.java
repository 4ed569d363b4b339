package dev.throttle.spring;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;

/**
 * Boot 3.5's health indicator of the Redis store ({@link RedisStoreHealth}): the {@code throttle} component of
 * {@code /actuator/health}. Left out of the Boot 4.0 build; its auto-configuration is skipped on Boot 4 by the
 * ConditionalOnClass of META-INF/spring-autoconfigure-metadata.properties, before this class is read.
 */
@AutoConfiguration(after = ThrottleAutoConfiguration.class)
@ConditionalOnClass(name = "org.springframework.boot.actuate.health.HealthIndicator")
@ConditionalOnBean(ThrottleAutoConfiguration.Stores.class)
@Conditional(OnRedisStore.class)
public class RedisHealthBoot3 {

  @Bean
  HealthIndicator throttleHealthIndicator(ObjectProvider<ThrottleAutoConfiguration.Stores> stores) {
    return () -> {
      RedisStoreHealth h = RedisStoreHealth.of(stores.getObject());
      return Health.status(new Status(h.status())).withDetails(h.details()).build();
    };
  }
}
