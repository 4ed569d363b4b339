package dev.throttle.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code throttle}: the command line. Each subcommand is its own class; this one only dispatches. */
@Command(
    name = "throttle",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Rate limiting for the JVM: exact token buckets in process, for HTTP clients and servers, and on Redis.",
    subcommands = {DemoCommand.class, FetchCommand.class, GatewayCommand.class,
        CommandLine.HelpCommand.class})
public final class Main implements Runnable {

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs the command line and returns its exit code (tests call this instead of {@link #main}). */
  public static int execute(String... args) {
    CommandLine cl = new CommandLine(new Main());
    CommandLine.IParameterExceptionHandler usage = cl.getParameterExceptionHandler();
    cl.setParameterExceptionHandler((e, arguments) -> {
      CommandLine c = e.getCommandLine();
      if (!c.getCommandName().equals("gateway")) {
        return usage.handleParseException(e, arguments);
      }
      // The gateway has some thirty flags: a bad value is one line naming it, not the whole usage after it.
      c.getErr().println("throttle gateway: " + e.getMessage());
      c.getErr().println("Try 'throttle gateway --help' for the flags and their forms.");
      c.getErr().flush();
      return c.getCommandSpec().exitCodeOnInvalidInput();
    });
    return cl.execute(args);
  }

  @Override
  public void run() {
    // `throttle` alone: show what there is, and fail, as for any other incomplete command line.
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing command: try 'throttle demo' or 'throttle --help'");
  }

  /** The version from the jar's manifest, or "development" when run from classes. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"throttle " + (v == null ? "development" : v)};
    }
  }
}
