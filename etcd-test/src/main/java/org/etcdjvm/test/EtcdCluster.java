package org.etcdjvm.test;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.etcdjvm.client.EtcdClient;
import org.etcdjvm.embedded.EtcdNode;
import org.etcdjvm.embedded.internal.LocalCluster;

/**
 * A cluster of etcd nodes inside this JVM, for tests: real {@link EtcdNode}s (Atomix Raft, the v1
 * HTTP API) on free loopback ports, each with a data directory under one temporary directory.
 *
 * <pre>{@code
 * try (EtcdCluster etcd = EtcdCluster.builder().nodes(3).build().start()) {
 *   etcd.client().set("/message", "Hello").send();
 *   etcd.kill(etcd.leaderIndex());      // the others elect a new leader
 *   etcd.client().get("/message").send();
 * }
 * }</pre>
 *
 * <p><b>Members</b> are numbered from 0 and named {@code node0}, {@code node1}, ... Every member
 * keeps its client and peer port for the cluster's whole life, so {@link #clientUrls()} and
 * {@link #client()} stay valid across {@link #kill kill} and {@link #restart restart}. A cluster of
 * several members is formed the way {@code bin/etcd-cluster} forms one: every member is started at
 * once with the full member list.
 *
 * <p><b>Defaults</b>: one member; 30 s start timeout; the temporary directory in {@code
 * java.io.tmpdir}; every other node setting as {@link EtcdNode.Builder} has it (etcd 0.1's 200 ms
 * election timeout and 50 ms heartbeat among them).
 *
 * <p><b>Timing</b> (2-core machine, see the project README): in a JVM that has already started a
 * node, one member is ready in about 0.1 s and three in about 0.3 s; the first node in a fresh
 * JVM also loads and compiles Atomix, Kryo and Netty, about a second more. {@link #close()} and
 * {@link #kill} take about 2 s per call (Atomix's messaging waits out Netty's quiet period;
 * members are closed in parallel).
 *
 * <p><b>Failures.</b> Methods throw unchecked exceptions, so that tests need no {@code throws}
 * clauses for their fixtures: {@link IllegalStateException} when a node fails to start (its
 * message says what it was waiting for), when the JVM lacks the {@code --add-opens} flags Atomix
 * needs (the message holds the Surefire and Gradle lines to paste), or when a method is called in
 * the wrong state; {@link UncheckedIOException} when the temporary directory cannot be created.
 * A failed {@link #start()} leaves nothing running and no directory behind.
 *
 * <p><b>Thread-safety.</b> Safe for use from several threads. {@link #start}, {@link #kill},
 * {@link #restart} and {@link #close} run one at a time; the accessors never wait for them.
 */
public final class EtcdCluster implements Closeable {
  private static final String HOST = "127.0.0.1";
  /** Fresh peer ports tried when one picked for a new cluster was taken by someone else meanwhile. */
  private static final int PORT_ATTEMPTS = 3;

  private final Builder config;
  private final Object lifecycle = new Object();
  private final Member[] members;
  private volatile State state = State.NEW;
  private volatile List<String> clientUrls;
  private volatile EtcdClient client;
  private Path root;

  private enum State { NEW, RUNNING, CLOSED }

  /** One member's fixed identity and, while it runs, its node. */
  private static final class Member {
    final String name;
    String peerAddress;
    int clientPort;
    volatile EtcdNode node;

    Member(String name) {
      this.name = name;
    }
  }

  private EtcdCluster(Builder config) {
    this.config = config;
    this.members = new Member[config.nodes];
    for (int i = 0; i < members.length; i++) {
      members[i] = new Member("node" + i);
    }
  }

  /**
   * A builder for a cluster of one member with every default; see {@link Builder}.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Starts every member and returns once each serves reads and writes. Does nothing if the cluster
   * runs already.
   *
   * @return this cluster
   * @throws IllegalStateException if the cluster is closed, the JVM lacks the flags Atomix needs,
   *     or a member does not start within the start timeout (everything started is then stopped
   *     and the temporary directory deleted)
   * @throws UncheckedIOException if the temporary directory cannot be created
   */
  public EtcdCluster start() {
    synchronized (lifecycle) {
      if (state == State.RUNNING) {
        return this;
      }
      if (state == State.CLOSED) {
        throw new IllegalStateException("this EtcdCluster is closed; build a new one");
      }
      RequiredJvmFlags.check();
      try {
        root = config.baseDirectory != null
            ? Files.createTempDirectory(Files.createDirectories(config.baseDirectory), "etcd-cluster-")
            : Files.createTempDirectory("etcd-cluster-");
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create a temporary directory for the etcd cluster: " + e.getMessage(), e);
      }
      try {
        startNewCluster();
      } catch (RuntimeException | Error e) {
        try {
          TempDirectory.delete(root);
        } catch (UncheckedIOException notDeleted) {
          e.addSuppressed(notDeleted);
        }
        throw e;
      }
      List<String> urls = new ArrayList<>();
      for (Member m : members) {
        URI url = URI.create(m.node.clientUrl());
        m.clientPort = url.getPort();
        urls.add(url.getScheme() + "://" + HOST + ":" + m.clientPort); // https with clientTls
      }
      clientUrls = List.copyOf(urls);
      state = State.RUNNING;
      return this;
    }
  }

  private void startNewCluster() {
    for (int attempt = 1; ; attempt++) {
      List<String> peers = pickPeerAddresses();
      List<EtcdNode> nodes = new ArrayList<>();
      for (int i = 0; i < members.length; i++) {
        members[i].peerAddress = peers.get(i);
      }
      for (int i = 0; i < members.length; i++) {
        nodes.add(newNode(i));
      }
      RuntimeException failure = startAll(nodes);
      if (failure == null) {
        for (int i = 0; i < members.length; i++) {
          members[i].node = nodes.get(i);
        }
        return;
      }
      closeAll(nodes);
      if (attempt == PORT_ATTEMPTS || !mentionsATakenPort(failure)) {
        throw failure;
      }
      for (Member m : members) { // the failed attempt may have written a cluster id already
        TempDirectory.delete(dataDir(m));
      }
    }
  }

  private List<String> pickPeerAddresses() {
    List<String> peers = new ArrayList<>();
    try {
      for (int i = 0; i < members.length; i++) {
        peers.add(HOST + ":" + LocalCluster.freePort());
      }
    } catch (IOException e) {
      throw new IllegalStateException("no free loopback port for the etcd cluster: " + e.getMessage(), e);
    }
    return peers;
  }

  /** Member {@code i}'s node: the user's settings, then the cluster's own (which win). */
  private EtcdNode newNode(int i) {
    Member m = members[i];
    List<String> others = new ArrayList<>();
    for (Member other : members) {
      if (other != m) {
        others.add(other.peerAddress);
      }
    }
    EtcdNode.Builder b = EtcdNode.builder();
    config.nodeSettings.accept(b);
    return b.name(m.name)
        .dataDir(dataDir(m))
        .clientAddress(HOST + ":" + m.clientPort)
        .peerAddress(m.peerAddress)
        .peers(others)
        .startTimeout(config.startTimeout)
        .build();
  }

  private Path dataDir(Member m) {
    return root.resolve(m.name);
  }

  /** Starts the nodes at once; null once all serve, else the failure (the nodes are left to the caller). */
  private RuntimeException startAll(List<EtcdNode> nodes) {
    List<CompletableFuture<EtcdNode>> starting = new ArrayList<>();
    for (EtcdNode node : nodes) {
      starting.add(node.start());
    }
    try {
      // Each node fails by itself after the start timeout; the margin only guards against a hang.
      CompletableFuture.allOf(starting.toArray(CompletableFuture[]::new))
          .get(config.startTimeout.toMillis() + 5_000, TimeUnit.MILLISECONDS);
      return null;
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      return new IllegalStateException("etcd cluster of " + nodes.size() + " did not start: " + cause.getMessage(), cause);
    } catch (TimeoutException e) {
      return new IllegalStateException("etcd cluster of " + nodes.size() + " did not start within "
          + config.startTimeout.toMillis() + " ms", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new IllegalStateException("interrupted while the etcd cluster was starting", e);
    }
  }

  private static boolean mentionsATakenPort(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t.getMessage() != null && t.getMessage().contains("in use")) {
        return true;
      }
    }
    return false;
  }

  /**
   * How many members the cluster has, running or killed.
   *
   * @return the number of members
   */
  public int size() {
    return members.length;
  }

  /**
   * Member 0's client URL, such as {@code http://127.0.0.1:24011} ({@code https://} when {@link
   * Builder#configureNodes} gives the members {@link EtcdNode.Builder#clientTls}): for a
   * single-node cluster, the URL.
   *
   * @return member 0's client URL
   * @throws IllegalStateException before {@link #start()} and after {@link #close()}
   */
  public String clientUrl() {
    return clientUrls().get(0);
  }

  /**
   * Every member's client URL, in member order; the same from {@link #start()} to {@link
   * #close()}, killed members included (a request to one is refused until it is restarted).
   *
   * @return the URLs, in member order
   * @throws IllegalStateException before {@link #start()} and after {@link #close()}
   */
  public List<String> clientUrls() {
    checkRunning();
    return clientUrls;
  }

  /**
   * A client over every member's URL with the client's defaults (it follows redirects to the
   * leader and fails over between members), created on first use and closed by {@link #close()}.
   * Build your own from {@link #clientUrls()} for other settings, and for members with {@link
   * EtcdNode.Builder#clientTls} (its {@code https://} URLs need the cluster's CA, and perhaps a
   * client certificate).
   *
   * @return the cluster's shared client
   * @throws IllegalStateException before {@link #start()} and after {@link #close()}
   */
  public EtcdClient client() {
    checkRunning();
    EtcdClient c = client;
    if (c == null) {
      synchronized (members) {
        checkRunning();
        c = client;
        if (c == null) {
          client = c = EtcdClient.builder().endpoints(clientUrls).build();
        }
      }
    }
    return c;
  }

  /**
   * Member {@code i}'s running node (a new object after each {@link #restart restart}).
   *
   * @param i the member's index, from 0
   * @return its node
   * @throws IndexOutOfBoundsException if there is no member {@code i}
   * @throws IllegalStateException if member {@code i} was killed, or the cluster is not running
   */
  public EtcdNode node(int i) {
    Objects.checkIndex(i, members.length);
    checkRunning();
    EtcdNode node = members[i].node;
    if (node == null) {
      throw new IllegalStateException("member " + i + " (" + members[i].name + ") was killed; restart(" + i
          + ") brings it back");
    }
    return node;
  }

  /**
   * The index of the member that leads right now, waiting up to the start timeout for an election
   * to settle (exactly one running member saying it leads).
   *
   * @return the leader's index, from 0
   * @throws IllegalStateException if no single leader emerges within the start timeout, or the
   *     cluster is not running
   */
  public int leaderIndex() {
    checkRunning();
    long deadline = System.nanoTime() + config.startTimeout.toNanos();
    while (true) {
      int leader = -1;
      int leaders = 0;
      for (int i = 0; i < members.length; i++) {
        EtcdNode node = members[i].node;
        if (node != null && node.isLeader()) {
          leader = i;
          leaders++;
        }
      }
      if (leaders == 1) {
        return leader;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new IllegalStateException("no single leader among the running members within "
            + config.startTimeout.toMillis() + " ms (" + leaders + " say they lead)");
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for a leader", e);
      }
    }
  }

  /**
   * Stops member {@code i} abruptly, as a crash would — as far as a node inside this JVM can be
   * crashed. What that means exactly:
   * <ul>
   *   <li>The member does not leave the cluster: the others keep it in their configuration, count
   *       it for the majority, and if it led they elect a new leader after an election timeout.
   *       Nothing is handed over.
   *   <li>Its client and peer connections are closed, so requests to it fail at once with a
   *       connection error, and writes in flight may end with their outcome unknown.
   *   <li>Unlike {@code kill -9}, the node still closes its files on the way down: its Raft log is
   *       flushed (every acknowledged entry was on disk already) and no write is torn. Tests of
   *       torn or lost writes need a node in its own process.
   * </ul>
   * Its data directory and ports are kept for {@link #restart}. Returns once the node is stopped
   * (about 2 s).
   *
   * @param i the member's index, from 0
   * @throws IndexOutOfBoundsException if there is no member {@code i}
   * @throws IllegalStateException if member {@code i} is not running, or the cluster is not running
   */
  public void kill(int i) {
    Objects.checkIndex(i, members.length);
    synchronized (lifecycle) {
      checkRunning();
      EtcdNode node = members[i].node;
      if (node == null) {
        throw new IllegalStateException("member " + i + " (" + members[i].name + ") is not running");
      }
      members[i].node = null;
      node.close();
    }
  }

  /**
   * Starts member {@code i} again on its data directory, client port and peer port, killing it
   * first if it runs, and returns its new node once it serves again: it rejoins the cluster and
   * catches up from the log it kept. That needs a majority of members running (with all of a
   * cluster's members killed, restart them from separate threads).
   *
   * @param i the member's index, from 0
   * @return member {@code i}'s new node
   * @throws IndexOutOfBoundsException if there is no member {@code i}
   * @throws IllegalStateException if the node does not start within the start timeout, or the
   *     cluster is not running
   */
  public EtcdNode restart(int i) {
    Objects.checkIndex(i, members.length);
    synchronized (lifecycle) {
      checkRunning();
      Member m = members[i];
      EtcdNode old = m.node;
      if (old != null) {
        m.node = null;
        old.close();
      }
      EtcdNode node = newNode(i);
      RuntimeException failure = startAll(List.of(node));
      if (failure != null) {
        node.close();
        throw new IllegalStateException("member " + i + " (" + m.name + ") did not restart: " + failure.getMessage(),
            failure.getCause());
      }
      m.node = node;
      return node;
    }
  }

  /**
   * Closes the {@link #client()}, stops every running member (in parallel, about 2 s) and deletes
   * the temporary directory with every member's data. Idempotent; a cluster never started is only
   * marked closed.
   */
  @Override
  public void close() {
    synchronized (lifecycle) {
      if (state == State.CLOSED) {
        return;
      }
      boolean started = state == State.RUNNING;
      state = State.CLOSED;
      if (!started) {
        return;
      }
      synchronized (members) {
        if (client != null) {
          client.close();
        }
      }
      List<EtcdNode> running = new ArrayList<>();
      for (Member m : members) {
        if (m.node != null) {
          running.add(m.node);
          m.node = null;
        }
      }
      closeAll(running);
      TempDirectory.delete(root);
    }
  }

  private static void closeAll(List<EtcdNode> nodes) {
    if (nodes.size() == 1) {
      nodes.get(0).close();
      return;
    }
    CompletableFuture.allOf(nodes.stream()
            .map(node -> CompletableFuture.runAsync(node::close, runnable -> {
              Thread t = new Thread(runnable, "etcd-cluster-close-" + node.name());
              t.setDaemon(true);
              t.start();
            }))
            .toArray(CompletableFuture[]::new))
        .join();
  }

  private void checkRunning() {
    State s = state;
    if (s != State.RUNNING) {
      throw new IllegalStateException(s == State.NEW ? "the etcd cluster is not started; call start() first"
          : "the etcd cluster is closed");
    }
  }

  @Override
  public String toString() {
    List<String> urls = clientUrls;
    return "EtcdCluster{" + members.length + (members.length == 1 ? " node" : " nodes") + ", " + state.name().toLowerCase()
        + (urls != null && state == State.RUNNING ? ", " + urls : "") + "}";
  }

  /**
   * Configures an {@link EtcdCluster}. Not thread-safe; {@link #build()} copies it, so a builder can
   * make several clusters.
   */
  public static final class Builder {
    private int nodes = 1;
    private Duration startTimeout = Duration.ofSeconds(30);
    private Path baseDirectory;
    private Consumer<EtcdNode.Builder> nodeSettings = b -> { };

    private Builder() {
    }

    /**
     * How many members; default 1. A majority of them must run for the cluster to take writes, so
     * odd numbers are the useful ones.
     *
     * @param nodes 1 to 9 (etcd 0.1's default cluster size limit)
     * @return this builder
     */
    public Builder nodes(int nodes) {
      if (nodes < 1 || nodes > 9) {
        throw new IllegalArgumentException("nodes must be 1 to 9: " + nodes);
      }
      this.nodes = nodes;
      return this;
    }

    /**
     * How long {@link EtcdCluster#start()}, {@link EtcdCluster#restart} and {@link
     * EtcdCluster#leaderIndex()} may wait; default 30 s.
     *
     * @param timeout a positive duration
     * @return this builder
     */
    public Builder startTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "startTimeout == null");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("startTimeout must be positive: " + timeout);
      }
      this.startTimeout = timeout;
      return this;
    }

    /**
     * Where the cluster's temporary directory is created (created if missing); default {@code
     * java.io.tmpdir}. The temporary directory, not this one, is deleted by {@link
     * EtcdCluster#close()}.
     *
     * @param directory a directory to create the temporary directory in
     * @return this builder
     */
    public Builder baseDirectory(Path directory) {
      this.baseDirectory = Objects.requireNonNull(directory, "baseDirectory == null");
      return this;
    }

    /**
     * Settings applied to every member's {@link EtcdNode.Builder}, such as {@code b ->
     * b.historySize(10)}; runs again for each start and restart. The settings the cluster makes
     * itself win over these: name, data directory, client and peer address, peers and start
     * timeout. Default: none.
     *
     * @param settings what to set on each member's builder
     * @return this builder
     */
    public Builder configureNodes(Consumer<EtcdNode.Builder> settings) {
      this.nodeSettings = Objects.requireNonNull(settings, "settings == null");
      return this;
    }

    /**
     * A cluster with this configuration, not started yet.
     *
     * @return a new cluster
     */
    public EtcdCluster build() {
      return new EtcdCluster(copy());
    }

    Builder copy() {
      Builder b = new Builder();
      b.nodes = nodes;
      b.startTimeout = startTimeout;
      b.baseDirectory = baseDirectory;
      b.nodeSettings = nodeSettings;
      return b;
    }

    int nodes() {
      return nodes;
    }
  }
}
