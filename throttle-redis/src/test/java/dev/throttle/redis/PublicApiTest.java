package dev.throttle.redis;

import dev.throttle.core.PublicTypes;
import org.junit.jupiter.api.Test;

/**
 * The public surface of throttle-redis is what {@code src/test/resources/public-types.txt} lists: a type made public
 * or a package exported without being meant fails here.
 */
class PublicApiTest {

  @Test
  void thePublicTypesAreTheListedOnes() {
    PublicTypes.assertListed(RedisLimits.class, PublicApiTest.class);
  }
}
