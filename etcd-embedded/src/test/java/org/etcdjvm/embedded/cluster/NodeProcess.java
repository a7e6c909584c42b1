package org.etcdjvm.embedded.cluster;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One etcd node in a child JVM, started the way {@code bin/etcd-node} starts it (the launcher's main
 * class, this JVM's class path, the two {@code --add-opens} flags), so that it can be killed with
 * SIGKILL ({@link Process#destroyForcibly()}) and restarted on the same data directory.
 *
 * <p>Its output goes to {@code <name>.log} next to the data directory; {@link #ready()} completes
 * when the node logs its "ready" line.
 */
final class NodeProcess {
  private static final Pattern READY = Pattern.compile("etcd node (\\S+) ready in (\\d+) ms");

  final String name;
  final String clientAddress;
  final String peerAddress;
  final List<String> peers;
  final Path dataDir;
  final Path logFile;
  private final List<String> extraArgs = new ArrayList<>();
  private Process process;
  private volatile CompletableFuture<Long> ready;
  private long launchedNanos;

  NodeProcess(String name, String clientAddress, String peerAddress, List<String> peers, Path dataDir) {
    this.name = name;
    this.clientAddress = clientAddress;
    this.peerAddress = peerAddress;
    this.peers = List.copyOf(peers);
    this.dataDir = dataDir;
    this.logFile = dataDir.resolveSibling(name + ".log");
  }

  /** More flags for every later {@link #start()}. */
  NodeProcess withArgs(String... args) {
    extraArgs.addAll(List.of(args));
    return this;
  }

  String clientUrl() {
    return "http://" + clientAddress;
  }

  String peerUrl() {
    return "http://" + peerAddress;
  }

  /** Launches the JVM; {@link #ready()} then completes with the ms from launch to the "ready" line. */
  synchronized NodeProcess start() throws IOException {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException(name + " is running");
    }
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("--add-opens");
    cmd.add("java.base/java.util.concurrent.atomic=ALL-UNNAMED");
    cmd.add("--add-opens");
    cmd.add("java.base/java.util=ALL-UNNAMED");
    cmd.add("-Xmx256m");
    cmd.add("-Dorg.slf4j.simpleLogger.defaultLogLevel=warn");
    cmd.add("-Dorg.slf4j.simpleLogger.log.org.etcdjvm=info");
    cmd.add("-Dorg.slf4j.simpleLogger.showDateTime=true");
    cmd.add("-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("org.etcdjvm.embedded.internal.cli.EtcdNodeCommand");
    cmd.add("-n");
    cmd.add(name);
    cmd.add("-d");
    cmd.add(dataDir.toString());
    cmd.add("-c");
    cmd.add(clientAddress);
    cmd.add("-s");
    cmd.add(peerAddress);
    if (!peers.isEmpty()) {
      cmd.add("-C");
      cmd.add(String.join(",", peers));
    }
    if (extraArgs.stream().noneMatch(a -> a.startsWith("--election-timeout"))) {
      // The suite shares 2 cores with other builds: etcd 0.1's 200 ms election timeout flapped
      // leaders there. The defaults' timing is measured by benchmarks/cluster-timing.py instead.
      cmd.addAll(List.of("--election-timeout", "500", "--heartbeat-interval", "100"));
    }
    cmd.addAll(extraArgs);
    Files.createDirectories(dataDir.getParent());
    CompletableFuture<Long> readyNow = new CompletableFuture<>();
    ready = readyNow;
    launchedNanos = System.nanoTime();
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    process = p;
    long launched = launchedNanos;
    Thread pump = new Thread(() -> pump(p, readyNow, launched), "output-of-" + name);
    pump.setDaemon(true);
    pump.start();
    return this;
  }

  private void pump(Process p, CompletableFuture<Long> readyNow, long launched) {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
         Writer log = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8,
             StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
      log.write("---- started " + java.time.LocalTime.now() + "\n");
      String line;
      while ((line = in.readLine()) != null) {
        log.write(line);
        log.write('\n');
        log.flush();
        Matcher m = READY.matcher(line);
        if (m.find() && m.group(1).equals(name)) {
          readyNow.complete(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - launched));
        }
      }
    } catch (IOException e) {
      // the process is gone
    } finally {
      if (!readyNow.isDone()) {
        readyNow.completeExceptionally(new IllegalStateException(name + " exited before it was ready; its log:\n" + tail(30)));
      }
    }
  }

  /** Completes with the ms from launch to the node's "ready" log line. */
  CompletableFuture<Long> ready() {
    return ready;
  }

  long awaitReady(Duration timeout) throws Exception {
    try {
      return ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new AssertionError(name + " not ready within " + timeout + "; log:\n" + tail(40), e);
    }
  }

  /** Waits for the process to exit on its own; returns its exit status. */
  int awaitExit(Duration timeout) throws InterruptedException {
    Process p = process;
    if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new AssertionError(name + " still running after " + timeout + "; log:\n" + tail(40));
    }
    return p.exitValue();
  }

  boolean isAlive() {
    Process p = process;
    return p != null && p.isAlive();
  }

  /** SIGKILL: no shutdown hook runs, nothing is flushed beyond what the node already wrote. */
  void kill() throws InterruptedException {
    Process p = process;
    if (p != null) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
  }

  /** SIGTERM: the node closes itself cleanly. */
  void stop() throws InterruptedException {
    Process p = process;
    if (p != null && p.isAlive()) {
      p.destroy();
      if (!p.waitFor(15, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
      }
    }
  }

  String tail(int lines) {
    try {
      List<String> all = Files.readAllLines(logFile, StandardCharsets.UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  @Override
  public String toString() {
    return name + "(" + clientAddress + ", peer " + peerAddress + ")";
  }
}
