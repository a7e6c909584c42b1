package org.etcdjvm.embedded.internal.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;
import org.apache.commons.cli.help.HelpFormatter;
import org.apache.commons.cli.help.TextHelpAppendable;
import org.etcdjvm.embedded.EtcdNode;
import org.etcdjvm.embedded.internal.LocalCluster;

/**
 * {@code bin/etcd-node}: starts one node with etcd 0.1's flags and runs until Ctrl-C (SIGINT or
 * SIGTERM), then closes it cleanly. Exit status 0 after a clean stop (or after {@code --help} and
 * {@code --version}), 1 if the node could not start, 2 for bad flags.
 *
 * <p>Flags are parsed by Apache Commons CLI. (picocli, used before, is compiled for Java 5, so
 * class-data sharing cannot archive its classes: it cost each start about 0.3 s of CPU.)
 */
public final class EtcdNodeCommand {
  static final String VERSION = "etcd v0.1.2 (etcdjvm)";
  static final String DEFAULT_NAME = "default";
  static final String DEFAULT_CLIENT_ADDRESS = "127.0.0.1:4001";
  static final String DEFAULT_PEER_ADDRESS = "127.0.0.1:7001";

  /** The parsed command line. {@code dataDir} is null when not given (EtcdNode's default). */
  record Flags(String name, Path dataDir, String clientAddress, String peerAddress, List<String> peers,
      boolean exitWhenReady, boolean help, boolean version) {
  }

  /** A command line that cannot be run; the message says why (exit status 2). */
  static final class BadFlagsException extends Exception {
    private static final long serialVersionUID = 1L;

    BadFlagsException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  private EtcdNodeCommand() {
  }

  static Options options() {
    Options options = new Options();
    options.addOption(Option.builder("n").longOpt("name").hasArg().argName("name")
        .desc("the node name (default: " + DEFAULT_NAME + ")").get());
    options.addOption(Option.builder("d").longOpt("data-dir").hasArg().argName("dir")
        .desc("the directory to store log and snapshots (default: ./<name>.etcd)").get());
    options.addOption(Option.builder("c").longOpt("client-addr").hasArg().argName("host:port")
        .desc("host:port for client HTTP traffic (default: " + DEFAULT_CLIENT_ADDRESS + ")").get());
    options.addOption(Option.builder("s").longOpt("peer-addr").hasArg().argName("host:port")
        .desc("host:port for Raft traffic between members (default: " + DEFAULT_PEER_ADDRESS + ")").get());
    options.addOption(Option.builder("C").longOpt("peers").hasArg().argName("host:port,...")
        .desc("comma-separated peer addresses of the other members (none: a single-member cluster)").get());
    options.addOption(Option.builder("h").longOpt("help").desc("show this help and exit").get());
    options.addOption(Option.builder("V").longOpt("version").desc("print the version and exit").get());
    return options;
  }

  /**
   * For bin/etcd-node's class-data-sharing archive: start, answer one write and one read over HTTP,
   * stop, exit. Not for users, so not in the help.
   */
  private static final String EXIT_WHEN_READY = "--exit-when-ready";

  /**
   * Also for the archive: three nodes in this JVM (under the {@code -d} directory, on free
   * loopback ports) form a cluster, take writes on the leader and redirects on the followers, then
   * stop; so that the classes a cluster member loads are archived too, not only a single node's.
   */
  private static final String TRAIN_CLUSTER = "--train-cluster";

  static Flags parse(String... args) throws BadFlagsException {
    List<String> rest = new ArrayList<>(List.of(args));
    boolean exitWhenReady = rest.remove(EXIT_WHEN_READY);
    rest.remove(TRAIN_CLUSTER);
    CommandLine line;
    try {
      line = DefaultParser.builder().get().parse(options(), rest.toArray(String[]::new));
    } catch (ParseException e) {
      throw new BadFlagsException(e.getMessage(), e);
    }
    if (!line.getArgList().isEmpty()) {
      throw new BadFlagsException("unexpected argument: " + line.getArgList().get(0), null);
    }
    for (String single : new String[] {"n", "d", "c", "s"}) {
      String[] values = line.getOptionValues(single);
      if (values != null && values.length > 1) {
        throw new BadFlagsException("option -" + single + " given more than once", null);
      }
    }
    List<String> peers = new ArrayList<>();
    String[] peerValues = line.getOptionValues("C");
    if (peerValues != null) {
      for (String value : peerValues) {
        for (String peer : value.split(",", -1)) {
          if (peer.isBlank()) {
            throw new BadFlagsException("empty peer address in -C " + value, null);
          }
          peers.add(peer.trim());
        }
      }
    }
    String dataDir = line.getOptionValue("d");
    Path dir;
    try {
      dir = dataDir == null ? null : Path.of(dataDir);
    } catch (java.nio.file.InvalidPathException e) {
      throw new BadFlagsException("invalid data directory: " + e.getMessage(), e);
    }
    return new Flags(line.getOptionValue("n", DEFAULT_NAME), dir,
        line.getOptionValue("c", DEFAULT_CLIENT_ADDRESS), line.getOptionValue("s", DEFAULT_PEER_ADDRESS),
        List.copyOf(peers), exitWhenReady, line.hasOption("h"), line.hasOption("V"));
  }

  static String usage() {
    StringWriter text = new StringWriter();
    try (PrintWriter out = new PrintWriter(text)) {
      HelpFormatter.builder().setHelpAppendable(new TextHelpAppendable(out)).setShowSince(false).get()
          .printHelp("etcd-node", "Runs an etcd v1 node replicated by Atomix Raft.", options(), null, true);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return text.toString();
  }

  /** Parses, then runs the node until it is stopped; returns the exit status. */
  static int run(String[] args, PrintStream out, PrintStream err) throws InterruptedException {
    if (List.of(args).contains(TRAIN_CLUSTER)) {
      return trainCluster(args, err);
    }
    Flags flags;
    try {
      flags = parse(args);
    } catch (BadFlagsException e) {
      err.println("etcd-node: " + e.getMessage());
      err.print(usage());
      return 2;
    }
    if (flags.help()) {
      out.print(usage());
      return 0;
    }
    if (flags.version()) {
      out.println(VERSION);
      return 0;
    }
    EtcdNode node;
    try {
      EtcdNode.Builder builder = EtcdNode.builder()
          .name(flags.name())
          .clientAddress(flags.clientAddress())
          .peerAddress(flags.peerAddress())
          .peers(flags.peers());
      if (flags.dataDir() != null) {
        builder.dataDir(flags.dataDir());
      }
      node = builder.build();
    } catch (IllegalArgumentException e) {
      err.println("etcd-node: " + e.getMessage());
      return 2;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      node.close();
      stopped.countDown();
    }, "etcd-node-shutdown"));
    try {
      node.start().get();
    } catch (ExecutionException e) {
      err.println("etcd-node: " + e.getCause().getMessage());
      return 1;
    }
    if (flags.exitWhenReady()) {
      try {
        exercise(node.clientUrl());
      } catch (IOException e) {
        err.println("etcd-node: " + e);
        return 1;
      } finally {
        node.close();
      }
      return 0;
    }
    // EtcdNode logs the one "ready" line with the client URL.
    stopped.await();
    return 0;
  }

  private static int trainCluster(String[] args, PrintStream err) {
    List<EtcdNode> nodes = new ArrayList<>();
    try {
      Flags flags = parse(args);
      Path dir = flags.dataDir() != null ? flags.dataDir() : Path.of("train.etcd");
      List<String> peers = LocalCluster.peerAddresses(3);
      for (int i = 0; i < 3; i++) {
        nodes.add(LocalCluster.member(peers, i, "train" + i, dir.resolve("train" + i)).build());
      }
      LocalCluster.startAll(nodes, Duration.ofSeconds(60));
      nodes.sort(java.util.Comparator.comparing(node -> !node.isLeader())); // leader first
      for (EtcdNode node : nodes) {
        exercise(node.clientUrl()); // the followers answer the write with a redirect
      }
      return 0;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    } catch (Exception e) {
      err.println("etcd-node: cluster training run failed: " + e);
      return 1;
    } finally {
      nodes.forEach(EtcdNode::close);
    }
  }

  /** One write, one read and one directory listing, so that the request path's classes get loaded. */
  private static void exercise(String clientUrl) throws IOException {
    for (String[] request : new String[][] {
        {"PUT", "/v1/keys/_warmup/key", "value=1"}, {"GET", "/v1/keys/_warmup/key", null},
        {"GET", "/v1/keys/_warmup", null}, {"GET", "/v1/machines", null}}) {
      java.net.HttpURLConnection c = (java.net.HttpURLConnection) java.net.URI.create(clientUrl + request[1]).toURL()
          .openConnection();
      c.setRequestMethod(request[0]);
      if (request[2] != null) {
        c.setDoOutput(true);
        c.setRequestProperty("Content-Type", "application/x-www-form-urlencoded");
        c.getOutputStream().write(request[2].getBytes(java.nio.charset.StandardCharsets.UTF_8));
      }
      int status = c.getResponseCode();
      try (java.io.InputStream body = status >= 400 ? c.getErrorStream() : c.getInputStream()) {
        if (body != null) {
          body.readAllBytes();
        }
      }
      c.disconnect();
    }
  }

  public static void main(String[] args) throws InterruptedException {
    int status = run(args, System.out, System.err);
    List<String> given = List.of(args);
    if (status != 0 || given.contains(EXIT_WHEN_READY) || given.contains(TRAIN_CLUSTER)) {
      System.exit(status); // Atomix leaves non-daemon threads behind
    }
  }
}
