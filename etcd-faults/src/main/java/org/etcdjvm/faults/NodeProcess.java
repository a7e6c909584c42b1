package org.etcdjvm.faults;

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
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One etcd node in a child JVM, launched the way {@code bin/etcd-node} launches it (the launcher
 * main class, the two {@code --add-opens}, its logging and JIT flags) from this JVM's class path,
 * inside its slot's network namespace. It can be killed (SIGKILL), paused (SIGSTOP), resumed
 * (SIGCONT), wiped and started again; each start is a new incarnation. Output goes to
 * {@code <run dir>/<name>.log}, appended across incarnations.
 */
final class NodeProcess {
  private static final Pattern READY = Pattern.compile("etcd node (\\S+) ready in (\\d+) ms");

  final int slot;
  final String name;
  final String clientAddress;
  final String peerAddress;
  final Path dataDir;
  final Path logFile;
  private final List<String> prefix;
  private final List<String> extraArgs;
  private Process process;
  private volatile boolean paused;
  private volatile int incarnation;
  private volatile CompletableFuture<Long> ready = CompletableFuture.failedFuture(new IllegalStateException("not started"));

  NodeProcess(int slot, Network net, Path runDir, List<String> extraArgs) {
    this.slot = slot;
    this.name = "n" + slot;
    this.clientAddress = net.clientAddress(slot);
    this.peerAddress = net.peerAddress(slot);
    this.prefix = net.launchPrefix(slot);
    this.dataDir = runDir.resolve(name);
    this.logFile = runDir.resolve(name + ".log");
    this.extraArgs = List.copyOf(extraArgs);
  }

  String clientUrl() {
    return "http://" + clientAddress;
  }

  int incarnation() {
    return incarnation;
  }

  /** Launches the JVM with {@code -C peers} (ignored by a node with data: it rejoins its cluster). */
  synchronized void start(List<String> peers) throws IOException {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException(name + " is running");
    }
    List<String> cmd = new ArrayList<>(prefix);
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(List.of(
        "--add-opens", "java.base/java.util.concurrent.atomic=ALL-UNNAMED",
        "--add-opens", "java.base/java.util=ALL-UNNAMED",
        "-Xmx256m",
        "-XX:CompileThresholdScaling=5",
        "-XX:ErrorFile=" + dataDir.resolveSibling(name + "-hs_err_pid%p.log"),
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
        "-Dorg.slf4j.simpleLogger.log.org.etcdjvm=info",
        "-Dorg.slf4j.simpleLogger.showDateTime=true",
        "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
        "-Dorg.slf4j.simpleLogger.log.io.atomix.protocols.raft.roles=error",
        "-Dorg.slf4j.simpleLogger.log.io.atomix.protocols.raft.session=error",
        "-Dorg.slf4j.simpleLogger.log.io.atomix.protocols.raft.impl.RaftContext=error",
        "-Dorg.slf4j.simpleLogger.log.io.atomix.cluster.protocol=error",
        "-Dorg.slf4j.simpleLogger.log.io.atomix.cluster.messaging=error",
        "-Dorg.slf4j.simpleLogger.log.io.atomix.primitive.session=error",
        "-cp", System.getProperty("java.class.path"),
        "org.etcdjvm.embedded.internal.cli.EtcdNodeCommand",
        "-n", name, "-d", dataDir.toString(), "-c", clientAddress, "-s", peerAddress,
        // The harness waits up to 120 s for a start (five cold JVMs on two busy cores); the node's
        // own default of 30 s gave up first once, still opening its Raft session at load ~15.
        "--start-timeout", "115"));
    if (!peers.isEmpty()) {
      cmd.add("-C");
      cmd.add(String.join(",", peers));
    }
    cmd.addAll(extraArgs);
    Files.createDirectories(dataDir.getParent());
    CompletableFuture<Long> readyNow = new CompletableFuture<>();
    ready = readyNow;
    long launched = System.nanoTime();
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    process = p;
    paused = false;
    incarnation++;
    int inc = incarnation;
    Thread pump = new Thread(() -> pump(p, readyNow, launched, inc, peers), "output-of-" + name);
    pump.setDaemon(true);
    pump.start();
  }

  private void pump(Process p, CompletableFuture<Long> readyNow, long launched, int inc, List<String> peers) {
    try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
         Writer log = Files.newBufferedWriter(logFile, StandardCharsets.UTF_8,
             StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
      log.write("---- incarnation " + inc + " (pid " + p.pid() + ", -C " + peers + ") started "
          + java.time.LocalTime.now() + "\n");
      log.flush();
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
        readyNow.completeExceptionally(new IllegalStateException(name + " exited before it was ready"));
      }
    }
  }

  CompletableFuture<Long> ready() {
    return ready;
  }

  /** Waits for the "ready" line; false if the node exited first or the time ran out. */
  boolean awaitReady(Duration timeout) throws InterruptedException {
    try {
      ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      return false;
    }
  }

  boolean isAlive() {
    Process p = process;
    return p != null && p.isAlive();
  }

  boolean isPaused() {
    return paused;
  }

  /** Alive, not paused, and it said it was ready. */
  boolean isServing() {
    return isAlive() && !paused && ready.isDone() && !ready.isCompletedExceptionally();
  }

  /** SIGKILL; waits until the process is gone. */
  void kill() throws InterruptedException {
    Process p = process;
    if (p != null && p.isAlive()) {
      p.destroyForcibly();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException(name + " (pid " + p.pid() + ") survived SIGKILL for 30 s");
      }
    }
    paused = false;
  }

  /** SIGSTOP: the JVM freezes with its sockets open. */
  void pause() {
    Process p = process;
    if (p != null && p.isAlive()) {
      Sh.must("kill", "-STOP", Long.toString(p.pid()));
      paused = true;
    }
  }

  /** SIGCONT. */
  void resume() {
    Process p = process;
    if (p != null && p.isAlive() && paused) {
      Sh.must("kill", "-CONT", Long.toString(p.pid()));
    }
    paused = false;
  }

  /** Waits for the process to exit by itself (e.g. after its removal); false if it did not in time. */
  boolean awaitExit(Duration timeout) throws InterruptedException {
    Process p = process;
    return p == null || p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Deletes the data directory (the node must not run). */
  void wipe() throws IOException {
    if (isAlive()) {
      throw new IllegalStateException(name + " is running");
    }
    if (Files.exists(dataDir)) {
      try (Stream<Path> all = Files.walk(dataDir)) {
        for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
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
    return name;
  }
}
