package dev.throttle.cli;

import java.util.ArrayList;
import java.util.List;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Ctrl-C (SIGINT) and SIGTERM as events a command handles, instead of the JVM's default of running shutdown hooks and
 * exiting with 130 (143). {@code sun.misc.Signal} (module {@code jdk.unsupported}, in every JDK since 9) is the only
 * way the JDK offers; where a signal cannot be handled (a platform without it), the default stays.
 */
final class Signals {

  private Signals() {}

  /** A handler in place; {@link #restore()} puts the previous one back. */
  interface Registration {
    void restore();
  }

  /** Runs {@code action} (on a thread of the JVM's) at each SIGINT or SIGTERM until the registrations are restored. */
  static List<Registration> onInterrupt(Runnable action) {
    List<Registration> done = new ArrayList<>(2);
    for (String name : new String[] {"INT", "TERM"}) {
      try {
        Signal signal = new Signal(name);
        SignalHandler previous = Signal.handle(signal, s -> action.run());
        done.add(() -> Signal.handle(signal, previous));
      } catch (IllegalArgumentException unavailable) {
        // not on this platform, or reserved by the JVM (-Xrs): the JVM's default handling stays
      }
    }
    return done;
  }
}
