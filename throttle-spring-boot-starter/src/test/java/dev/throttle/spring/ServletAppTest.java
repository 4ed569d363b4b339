package dev.throttle.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.throttle.http.servlet.ThrottleFilter;
import dev.throttle.spring.servletapp.ServletApp;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.web.servlet.FilterRegistrationBean;

/** A Spring MVC application on Tomcat, configured by servlet.yml only: the Servlet filter is installed. */
@SpringBootTest(classes = ServletApp.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = "spring.config.name=servlet")
class ServletAppTest extends ThrottledAppContract {

  @Autowired
  FilterRegistrationBean<ThrottleFilter> filter;

  @Test
  void theServletFilterDecidesThroughTheConfiguredThrottle() {
    assertThat(filter.getFilter().throttle()).isSameAs(throttle);
    assertThat(throttle.rules()).extracting(r -> r.name()).containsExactly("items", "slow", "keyed", "waiting", "encoded", "held", "metered");
  }
}
