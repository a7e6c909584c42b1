package org.etcdjvm.embedded.internal.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import org.etcdjvm.embedded.EtcdNode;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/etcd-node}: starts one node with etcd 0.1's flags and runs until Ctrl-C (SIGINT or
 * SIGTERM), then closes it cleanly. Exit status 0 after a clean stop, 1 if the node could not start,
 * 2 for bad flags.
 */
@Command(name = "etcd-node", mixinStandardHelpOptions = true, version = "etcd v0.1.2 (etcdjvm)",
    description = "Runs an etcd v1 node replicated by Atomix Raft.", sortOptions = false)
public final class EtcdNodeCommand implements Callable<Integer> {

  @Option(names = {"-n", "--name"}, defaultValue = "default", description = "the node name (default: ${DEFAULT-VALUE})")
  String name;

  @Option(names = {"-d", "--data-dir"}, description = "the directory to store log and snapshots (default: ./<name>.etcd)")
  Path dataDir;

  @Option(names = {"-c", "--client-addr"}, defaultValue = "127.0.0.1:4001",
      description = "host:port for client HTTP traffic (default: ${DEFAULT-VALUE})")
  String clientAddress;

  @Option(names = {"-s", "--peer-addr"}, defaultValue = "127.0.0.1:7001",
      description = "host:port for Raft traffic between members (default: ${DEFAULT-VALUE})")
  String peerAddress;

  @Option(names = {"-C", "--peers"}, split = ",", paramLabel = "host:port",
      description = "comma-separated peer addresses of the other members (none: a single-member cluster)")
  List<String> peers = List.of();

  /**
   * For bin/etcd-node's class-data-sharing archive: start, answer one write and one read over HTTP,
   * stop, exit. Not for users.
   */
  @Option(names = "--exit-when-ready", hidden = true)
  boolean exitWhenReady;

  @Override
  public Integer call() throws Exception {
    EtcdNode.Builder builder = EtcdNode.builder()
        .name(name)
        .clientAddress(clientAddress)
        .peerAddress(peerAddress)
        .peers(peers);
    if (dataDir != null) {
      builder.dataDir(dataDir);
    }
    EtcdNode node = builder.build();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      node.close();
      stopped.countDown();
    }, "etcd-node-shutdown"));
    try {
      node.start().get();
    } catch (ExecutionException e) {
      System.err.println("etcd-node: " + e.getCause().getMessage());
      return 1;
    }
    if (exitWhenReady) {
      exercise(node.clientUrl());
      node.close();
      return 0;
    }
    // EtcdNode logs the one "ready" line with the client URL.
    stopped.await();
    return 0;
  }

  /** One write, one read and one directory listing, so that the request path's classes get loaded. */
  private static void exercise(String clientUrl) throws java.io.IOException {
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
      c.getResponseCode();
      c.getInputStream().readAllBytes();
      c.disconnect();
    }
  }

  public static void main(String[] args) {
    CommandLine cli = new CommandLine(new EtcdNodeCommand());
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      System.err.println("etcd-node: " + e.getMessage());
      return 1;
    });
    int status = cli.execute(args);
    if (status != 0 || cli.<EtcdNodeCommand>getCommand().exitWhenReady) {
      System.exit(status); // Atomix leaves non-daemon threads behind
    }
  }
}
