package org.etcdjvm.embedded.internal.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;
import org.apache.commons.cli.help.HelpFormatter;
import org.apache.commons.cli.help.TextHelpAppendable;
import org.etcdjvm.embedded.EtcdNode;
import org.etcdjvm.embedded.TlsConfig;
import org.etcdjvm.embedded.internal.LocalCluster;

/**
 * {@code bin/etcd-node}: starts one node with etcd 0.1.2's flags and runs until Ctrl-C (SIGINT or
 * SIGTERM), then closes it cleanly; also stops when the node is removed from its cluster. Exit
 * status 0 after a clean stop (or after {@code --help} and {@code --version}), 1 if the node could
 * not start, 2 for bad flags.
 *
 * <p>Every flag of etcd 0.1.2 is accepted, in Go's forms ({@code -flag value}, {@code -flag=value},
 * {@code --flag}, booleans as {@code -v} or {@code -v=true}), plus long forms. Flags parsed by
 * Apache Commons CLI (its classes can be put in the class-data-sharing archive).
 */
public final class EtcdNodeCommand {
  static final String VERSION = "etcd v0.1.2 (etcdjvm)";
  static final String DEFAULT_NAME = "default";
  static final String DEFAULT_CLIENT_ADDRESS = "127.0.0.1:4001";
  static final String DEFAULT_PEER_ADDRESS = "127.0.0.1:7001";

  /** Boolean flags, which Go also accepts as {@code -flag=true} / {@code -flag=false}. */
  private static final Set<String> BOOLEAN_FLAGS = Set.of("v", "vv", "f", "snapshot", "version", "h", "V");

  /**
   * The parsed command line. {@code dataDir}, {@code clientListenHost}, {@code peerListenHost},
   * {@code historySize}, {@code maxClusterSize}, {@code electionTimeout}, {@code heartbeatInterval},
   * {@code minFreeDiskMb}, {@code maxHistoryMb} and {@code startTimeout} are null when not given (EtcdNode's defaults). {@code verbosity}: 0, 1 ({@code -v}) or 2
   * ({@code -vv}). {@code ignored} lists accepted flags that do nothing here, with the reason.
   */
  record Flags(String name, Path dataDir, String clientAddress, String peerAddress, List<String> peers,
      String clientListenHost, String peerListenHost, Integer historySize, Integer maxClusterSize, List<String> cors,
      int verbosity, boolean force, Duration electionTimeout, Duration heartbeatInterval, Long minFreeDiskMb,
      Integer maxHistoryMb, Duration startTimeout, Tls clientTls, Tls peerTls, List<String> ignored,
      boolean exitWhenReady, boolean help, boolean version) {
  }

  /** TLS files of one port: certificate, key, and CA file (null: no client certificates asked for). */
  record Tls(Path certificate, Path key, Path ca) {
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
    Options o = new Options();
    o.addOption(Option.builder("n").longOpt("name").hasArg().argName("name")
        .desc("the node name (default: " + DEFAULT_NAME + ")").get());
    o.addOption(Option.builder("d").longOpt("data-dir").hasArg().argName("dir")
        .desc("the directory to store log and snapshots (default: ./<name>.etcd)").get());
    o.addOption(Option.builder("c").longOpt("client-addr").hasArg().argName("host:port")
        .desc("the advertised host:port for client HTTP traffic (default: " + DEFAULT_CLIENT_ADDRESS + ")").get());
    o.addOption(Option.builder("cl").longOpt("client-listen-host").hasArg().argName("host")
        .desc("the host to listen on for clients (default: the host of -c)").get());
    o.addOption(Option.builder("s").longOpt("peer-addr").hasArg().argName("host:port")
        .desc("the advertised host:port for Raft traffic between members (default: " + DEFAULT_PEER_ADDRESS + ")").get());
    o.addOption(Option.builder("sl").longOpt("peer-listen-host").hasArg().argName("host")
        .desc("the host to listen on for peers (default: the host of -s)").get());
    o.addOption(Option.builder("C").longOpt("peers").hasArg().argName("host:port,...")
        .desc("peer addresses of running members to join (or, for a new cluster, of all the other members)").get());
    o.addOption(Option.builder("CF").longOpt("peers-file").hasArg().argName("file")
        .desc("a file with the comma-separated peer addresses, instead of -C").get());
    o.addOption(Option.builder("m").longOpt("history-size").hasArg().argName("events")
        .desc("events kept for watches from an older index (etcd's result buffer; default 1000)").get());
    o.addOption(Option.builder().longOpt("max-history-mb").hasArg().argName("MB")
        .desc("what those events may hold, in MB of their keys, values and previous values (default 16);"
            + " beyond it the oldest go first, as beyond -m").get());
    o.addOption(Option.builder("maxsize").longOpt("max-cluster-size").hasArg().argName("members")
        .desc("the most members the cluster admits (default 9); a join beyond it gets error 103").get());
    o.addOption(Option.builder("cors").longOpt("cors").hasArg().argName("origins")
        .desc("comma-separated origins allowed by CORS ('*' for any)").get());
    o.addOption(Option.builder().longOpt("election-timeout").hasArg().argName("ms")
        .desc("Raft election timeout in milliseconds (default 200)").get());
    o.addOption(Option.builder().longOpt("heartbeat-interval").hasArg().argName("ms")
        .desc("Raft heartbeat interval in milliseconds (default 50)").get());
    o.addOption(Option.builder().longOpt("start-timeout").hasArg().argName("s")
        .desc("seconds to wait for the cluster (a leader, this member's registration) before giving up and"
            + " exiting with status 1 (default 30)").get());
    o.addOption(Option.builder().longOpt("min-free-disk-mb").hasArg().argName("MB")
        .desc("free space kept on the data directory's disk; below it writes are refused (default: three log"
            + " segments plus an entry, about 50; 0: no floor)").get());
    o.addOption(Option.builder("f").longOpt("force")
        .desc("discard this member's existing data directory and start as a new member (WARNING: data loss)").get());
    o.addOption(Option.builder("v").longOpt("verbose").desc("verbose logging").get());
    o.addOption(Option.builder("vv").longOpt("very-verbose").desc("very verbose logging (Raft included)").get());
    o.addOption(Option.builder("snapshot").desc("accepted for etcd 0.1 compatibility: snapshots are always on").get());
    o.addOption(Option.builder("r").hasArg().argName("n")
        .desc("accepted for etcd 0.1 compatibility: joining retries until the start timeout").get());
    o.addOption(Option.builder("w").hasArg().argName("host:port")
        .desc("accepted for etcd 0.1 compatibility: there is no web dashboard").get());
    o.addOption(Option.builder("cpuprofile").hasArg().argName("file")
        .desc("accepted for etcd 0.1 compatibility: profile with JFR instead").get());
    o.addOption(Option.builder("clientCert").longOpt("client-cert-file").hasArg().argName("file")
        .desc("the client port's certificate (PEM, with any intermediates after it): HTTPS only; needs -clientKey").get());
    o.addOption(Option.builder("clientKey").longOpt("client-key-file").hasArg().argName("file")
        .desc("the client port's private key (PEM: PKCS#8, PKCS#1 RSA or SEC1 EC, unencrypted)").get());
    o.addOption(Option.builder("clientCAFile").longOpt("client-ca-file").hasArg().argName("file")
        .desc("CA certificates (PEM): clients must present a certificate signed by one of them").get());
    o.addOption(Option.builder("serverCert").longOpt("peer-cert-file").hasArg().argName("file")
        .desc("this member's certificate for Raft traffic (PEM): mutual TLS between members; needs -serverKey and"
            + " -serverCAFile").get());
    o.addOption(Option.builder("serverKey").longOpt("peer-key-file").hasArg().argName("file")
        .desc("this member's private key for Raft traffic (PEM)").get());
    o.addOption(Option.builder("serverCAFile").longOpt("peer-ca-file").hasArg().argName("file")
        .desc("CA certificates (PEM) every member's certificate must be signed by").get());
    o.addOption(Option.builder("h").longOpt("help").desc("show this help and exit").get());
    o.addOption(Option.builder("V").longOpt("version").desc("print the version and exit").get());
    return o;
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
    Options options = options();
    List<String> rest = goStyle(options, List.of(args));
    boolean exitWhenReady = rest.remove(EXIT_WHEN_READY);
    rest.remove(TRAIN_CLUSTER);
    CommandLine line;
    try {
      line = DefaultParser.builder().setAllowPartialMatching(false).get().parse(options, rest.toArray(String[]::new));
    } catch (ParseException e) {
      throw new BadFlagsException(e.getMessage(), e);
    }
    if (!line.getArgList().isEmpty()) {
      throw new BadFlagsException("unexpected argument: " + line.getArgList().get(0), null);
    }
    for (Option option : line.getOptions()) {
      String[] values = line.getOptionValues(option);
      String key = option.getOpt() != null ? option.getOpt() : option.getLongOpt();
      if (!key.equals("C") && values != null && values.length > 1) {
        throw new BadFlagsException("option -" + key + " given more than once", null);
      }
    }
    Tls clientTls = tls(line, "clientCert", "clientKey", "clientCAFile", false);
    Tls peerTls = tls(line, "serverCert", "serverKey", "serverCAFile", true);
    List<String> peers = new ArrayList<>();
    String[] peerValues = line.getOptionValues("C");
    if (peerValues != null) {
      for (String value : peerValues) {
        addPeers(peers, value, "-C " + value);
      }
    }
    if (line.hasOption("CF")) {
      if (peerValues != null) {
        throw new BadFlagsException("give either -C or -CF, not both", null);
      }
      Path file = Path.of(line.getOptionValue("CF"));
      try {
        addPeers(peers, Files.readString(file, StandardCharsets.UTF_8).trim(), "-CF " + file);
      } catch (IOException e) {
        throw new BadFlagsException("cannot read the peers file " + file + ": " + e.getMessage(), e);
      }
    }
    String dataDir = line.getOptionValue("d");
    Path dir;
    try {
      dir = dataDir == null ? null : Path.of(dataDir);
    } catch (java.nio.file.InvalidPathException e) {
      throw new BadFlagsException("invalid data directory: " + e.getMessage(), e);
    }
    List<String> cors = new ArrayList<>();
    if (line.hasOption("cors")) {
      for (String origin : line.getOptionValue("cors").split(",", -1)) {
        if (origin.isBlank()) {
          throw new BadFlagsException("empty origin in -cors " + line.getOptionValue("cors"), null);
        }
        cors.add(origin.trim());
      }
    }
    List<String> ignored = new ArrayList<>();
    if (line.hasOption("snapshot")) {
      ignored.add("-snapshot (snapshots are always on)");
    }
    if (line.hasOption("r")) {
      positiveInt(line, "r");
      ignored.add("-r (joining retries until the start timeout)");
    }
    if (line.hasOption("w")) {
      ignored.add("-w (there is no web dashboard)");
    }
    if (line.hasOption("cpuprofile")) {
      ignored.add("-cpuprofile (profile with JFR: -XX:StartFlightRecording in ETCD_NODE_JAVA_OPTS)");
    }
    Integer history = line.hasOption("m") ? positiveInt(line, "m") : null;
    Integer maxSize = line.hasOption("maxsize") ? positiveInt(line, "maxsize") : null;
    Integer election = line.hasOption("election-timeout") ? positiveInt(line, "election-timeout") : null;
    Integer heartbeat = line.hasOption("heartbeat-interval") ? positiveInt(line, "heartbeat-interval") : null;
    Long minFreeDisk = line.hasOption("min-free-disk-mb") ? (long) nonNegativeInt(line, "min-free-disk-mb") : null;
    Integer startTimeout = line.hasOption("start-timeout") ? positiveInt(line, "start-timeout") : null;
    Integer maxHistoryMb = line.hasOption("max-history-mb") ? positiveInt(line, "max-history-mb") : null;
    return new Flags(line.getOptionValue("n", DEFAULT_NAME), dir,
        line.getOptionValue("c", DEFAULT_CLIENT_ADDRESS), line.getOptionValue("s", DEFAULT_PEER_ADDRESS),
        List.copyOf(peers), line.getOptionValue("cl"), line.getOptionValue("sl"), history, maxSize, List.copyOf(cors),
        line.hasOption("vv") ? 2 : line.hasOption("v") ? 1 : 0, line.hasOption("f"),
        election == null ? null : Duration.ofMillis(election), heartbeat == null ? null : Duration.ofMillis(heartbeat),
        minFreeDisk, maxHistoryMb, startTimeout == null ? null : Duration.ofSeconds(startTimeout), clientTls, peerTls, List.copyOf(ignored), exitWhenReady, line.hasOption("h"), line.hasOption("V"));
  }

  /**
   * Go's flag package forms that Commons CLI reads differently: {@code --flag} for a one-dash
   * flag ({@code --maxsize 5}), and {@code -flag=true|false} for a boolean. (Go's
   * {@code -flag=value} and {@code -flag value} Commons CLI reads as they are.)
   */
  private static List<String> goStyle(Options options, List<String> args) throws BadFlagsException {
    List<String> out = new ArrayList<>(args.size());
    for (String arg : args) {
      String a = arg;
      if (a.startsWith("--") && a.length() > 2) {
        String name = a.substring(2).split("=", 2)[0];
        if (!options.hasLongOption(name) && options.hasShortOption(name)) {
          a = a.substring(1);
        }
      }
      if (a.startsWith("-") && !a.startsWith("--") && a.indexOf('=') > 1) {
        String name = a.substring(1, a.indexOf('='));
        String value = a.substring(a.indexOf('=') + 1);
        if (BOOLEAN_FLAGS.contains(name)) {
          if (value.equalsIgnoreCase("false") || value.equals("0")) {
            continue;
          }
          if (!value.equalsIgnoreCase("true") && !value.equals("1")) {
            throw new BadFlagsException("invalid boolean value \"" + value + "\" for -" + name, null);
          }
          a = "-" + name;
        } else if (options.hasShortOption(name)) {
          out.add("-" + name); // Go's -flag=value, which Commons CLI reads only for one-letter flags
          out.add(value);
          continue;
        }
      }
      if (a.equals("-version")) {
        a = "--version"; // etcd 0.1.2's -version
      }
      out.add(a);
    }
    return out;
  }

  /**
   * The TLS files of one port, or null if none of its flags is given. The files are read when the
   * node starts (a missing or bad one fails the start with a message naming it).
   *
   * @param caRequired whether the CA file is required (peers: members authenticate each other)
   */
  private static Tls tls(CommandLine line, String cert, String key, String ca, boolean caRequired)
      throws BadFlagsException {
    boolean any = line.hasOption(cert) || line.hasOption(key) || line.hasOption(ca);
    if (!any) {
      return null;
    }
    if (caRequired && !(line.hasOption(cert) && line.hasOption(key) && line.hasOption(ca))) {
      throw new BadFlagsException("give -" + cert + ", -" + key + " and -" + ca + " together: members authenticate"
          + " each other with certificates signed by that CA", null);
    }
    if (!line.hasOption(cert) || !line.hasOption(key)) {
      throw new BadFlagsException("give -" + cert + " and -" + key + " together"
          + (line.hasOption(ca) ? " (-" + ca + " asks for client certificates over HTTPS)" : ""), null);
    }
    return new Tls(path(line, cert), path(line, key), line.hasOption(ca) ? path(line, ca) : null);
  }

  private static Path path(CommandLine line, String flag) throws BadFlagsException {
    String value = line.getOptionValue(flag);
    try {
      if (value.isBlank()) {
        throw new java.nio.file.InvalidPathException(value, "empty");
      }
      return Path.of(value);
    } catch (java.nio.file.InvalidPathException e) {
      throw new BadFlagsException("-" + flag + ": invalid file name \"" + value + "\"", e);
    }
  }

  private static void addPeers(List<String> peers, String value, String source) throws BadFlagsException {
    for (String peer : value.split(",", -1)) {
      if (peer.isBlank()) {
        throw new BadFlagsException("empty peer address in " + source, null);
      }
      String p = peer.trim();
      // etcd 0.1 also accepted http:// (and, with TLS, https://) URLs for peers
      peers.add(p.startsWith("http://") ? p.substring("http://".length())
          : p.startsWith("https://") ? p.substring("https://".length()) : p);
    }
  }

  private static int nonNegativeInt(CommandLine line, String flag) throws BadFlagsException {
    String value = line.getOptionValue(flag);
    try {
      int n = Integer.parseInt(value.trim());
      if (n < 0) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new BadFlagsException("-" + flag + " needs a whole number of 0 or more, got \"" + value + "\"", e);
    }
  }

  private static int positiveInt(CommandLine line, String flag) throws BadFlagsException {
    String value = line.getOptionValue(flag);
    try {
      int n = Integer.parseInt(value.trim());
      if (n < 1) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new BadFlagsException("-" + flag + " needs a positive whole number, got \"" + value + "\"", e);
    }
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

  /**
   * {@code -v} and {@code -vv} raise slf4j-simple's levels (bin/etcd-node's logging); they are read
   * when the first logger is created, which happens after this.
   */
  private static void applyVerbosity(int verbosity) {
    if (verbosity >= 1) {
      System.setProperty("org.slf4j.simpleLogger.log.org.etcdjvm", "debug");
    }
    if (verbosity >= 2) {
      for (String quiet : new String[] {"io.atomix.protocols.raft.roles", "io.atomix.protocols.raft.session",
          "io.atomix.protocols.raft.impl.RaftContext", "io.atomix.cluster.protocol", "io.atomix.cluster.messaging",
          "io.atomix.primitive.session"}) {
        System.clearProperty("org.slf4j.simpleLogger.log." + quiet);
      }
      System.setProperty("org.slf4j.simpleLogger.log.io.atomix", "debug");
    }
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
    applyVerbosity(flags.verbosity());
    for (String ignored : flags.ignored()) {
      err.println("etcd-node: ignoring " + ignored);
    }
    EtcdNode node;
    try {
      node = builder(flags).build();
    } catch (IllegalArgumentException e) {
      err.println("etcd-node: " + e.getMessage());
      return 2;
    }
    if (flags.force()) {
      try {
        forgetDataDir(node.dataDir(), err);
      } catch (IOException e) {
        err.println("etcd-node: -f: cannot clear " + node.dataDir() + ": " + e.getMessage());
        return 1;
      }
    }
    Thread hook = new Thread(node::close, "etcd-node-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
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
    // EtcdNode logs the one "ready" line with the client URL; it closes itself if it is removed.
    node.whenClosed().join();
    return 0;
  }

  static EtcdNode.Builder builder(Flags flags) {
    EtcdNode.Builder builder = EtcdNode.builder()
        .name(flags.name())
        .clientAddress(flags.clientAddress())
        .peerAddress(flags.peerAddress())
        .peers(flags.peers());
    if (flags.dataDir() != null) {
      builder.dataDir(flags.dataDir());
    }
    if (flags.clientListenHost() != null) {
      builder.clientListenHost(flags.clientListenHost());
    }
    if (flags.peerListenHost() != null) {
      builder.peerListenHost(flags.peerListenHost());
    }
    if (flags.historySize() != null) {
      builder.historySize(flags.historySize());
    }
    if (flags.maxHistoryMb() != null) {
      builder.maxHistoryBytes(flags.maxHistoryMb() * 1024L * 1024);
    }
    if (flags.maxClusterSize() != null) {
      builder.maxClusterSize(flags.maxClusterSize());
    }
    if (!flags.cors().isEmpty()) {
      builder.corsOrigins(flags.cors());
    }
    if (flags.electionTimeout() != null) {
      builder.electionTimeout(flags.electionTimeout());
    }
    if (flags.heartbeatInterval() != null) {
      builder.heartbeatInterval(flags.heartbeatInterval());
    }
    if (flags.startTimeout() != null) {
      builder.startTimeout(flags.startTimeout());
    }
    if (flags.minFreeDiskMb() != null) {
      builder.minFreeDiskSpace(flags.minFreeDiskMb() * 1024 * 1024);
    }
    if (flags.clientTls() != null) {
      TlsConfig tls = TlsConfig.pem(flags.clientTls().certificate(), flags.clientTls().key());
      builder.clientTls(flags.clientTls().ca() != null ? tls.trustPem(flags.clientTls().ca()) : tls);
    }
    if (flags.peerTls() != null) {
      builder.peerTls(TlsConfig.pem(flags.peerTls().certificate(), flags.peerTls().key()).trustPem(flags.peerTls().ca()));
    }
    return builder;
  }

  /** etcd's {@code -f}: this member's Raft state goes; the directory itself stays. */
  private static void forgetDataDir(Path dir, PrintStream err) throws IOException {
    if (!Files.isDirectory(dir)) {
      return;
    }
    err.println("etcd-node: -f: discarding the Raft log, snapshots and cluster id in " + dir);
    for (String name : new String[] {"raft", "cluster-id"}) {
      Path p = dir.resolve(name);
      if (Files.exists(p)) {
        try (var walk = Files.walk(p)) {
          for (Path f : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
            Files.delete(f);
          }
        }
      }
    }
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
        c.getOutputStream().write(request[2].getBytes(StandardCharsets.UTF_8));
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
    // Atomix leaves non-daemon threads behind. (During a Ctrl-C shutdown this blocks until the
    // shutdown hook has closed the node, then the JVM halts.)
    System.exit(run(args, System.out, System.err));
  }
}
