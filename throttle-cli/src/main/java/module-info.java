/** The {@code throttle} command (demo, fetch, gateway): an application; it exports nothing. */
module dev.throttle.cli {
  requires dev.throttle.client;
  requires dev.throttle.gateway;
  requires info.picocli;
  requires com.fasterxml.jackson.jr.ob;
  requires jdk.unsupported;

  opens dev.throttle.cli to info.picocli;
}
