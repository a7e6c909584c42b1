package org.etcdjvm.examples;

import java.io.Closeable;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.etcdjvm.client.CompareFailedException;
import org.etcdjvm.client.EtcdClient;
import org.etcdjvm.client.EtcdException;
import org.etcdjvm.client.KeyNotFoundException;
import org.etcdjvm.embedded.EtcdNode;

/**
 * Leader election with a lock key: candidates {@link EtcdClient#create create} the key with their
 * id and a TTL; the one that succeeds leads and refreshes the TTL with {@link
 * EtcdClient#compareAndSet compareAndSet(key, id, id)}, which fails as soon as the key is no
 * longer its own. When the leader stops refreshing (it crashed, hung, or {@link #close closed}),
 * the key expires and the next candidate's create succeeds.
 *
 * <p>Shows: create-if-absent, compare-and-set, TTLs, and typed errors. A leader counts itself
 * leader only until its last successful refresh was <em>sent</em> plus the TTL, so it gives up
 * before the server can hand the key to someone else, even when it cannot reach the server.
 */
public final class LeaderElection implements Closeable {
  private final EtcdClient etcd;
  private final String key;
  private final String id;
  private final Duration ttl;
  private final ScheduledExecutorService timer;
  /** System.nanoTime() until which this candidate holds the lock; 0 if it does not. */
  private volatile long leaseEnd;
  private volatile boolean closed;

  /** Starts campaigning for {@code key} as {@code id}, trying again every {@code ttl / 3}. */
  public LeaderElection(EtcdClient etcd, String key, String id, Duration ttl) {
    this.etcd = etcd;
    this.key = key;
    this.id = id;
    this.ttl = ttl;
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "election-" + id);
      t.setDaemon(true);
      return t;
    });
    long period = Math.max(1, ttl.toMillis() / 3);
    timer.scheduleWithFixedDelay(this::tick, 0, period, TimeUnit.MILLISECONDS);
  }

  /** Whether this candidate leads right now. */
  public boolean isLeader() {
    long end = leaseEnd;
    return !closed && end != 0 && end - System.nanoTime() > 0;
  }

  /** This candidate's id. */
  public String id() {
    return id;
  }

  private void tick() {
    long sent = System.nanoTime();
    try {
      if (isLeader()) {
        etcd.compareAndSet(key, id, id).ttl(ttl).send(); // refresh: only if the lock is still ours
      } else {
        etcd.create(key, id).ttl(ttl).send(); // campaign: only if nobody holds the lock
      }
      leaseEnd = sent + ttl.toNanos();
    } catch (CompareFailedException | KeyNotFoundException e) {
      leaseEnd = 0; // someone else holds it (or our lock expired before the refresh)
    } catch (IOException | EtcdException e) {
      // unreachable or unsure: keep the lease we have, which runs out by itself
    }
  }

  /** Stops campaigning and refreshing; a held lock expires after its TTL. */
  @Override public void close() {
    closed = true;
    timer.shutdownNow();
  }

  /** Starts a node and two candidates; the leader steps down and the other takes over. */
  public static void main(String[] args) throws Exception {
    run(System.out);
  }

  static void run(PrintStream out) throws Exception {
    Path dir = Files.createTempDirectory("etcd-leader-election");
    try (EtcdNode node = EtcdNode.builder().dataDir(dir).clientAddress("127.0.0.1:0").peerAddress("127.0.0.1:0").build()) {
      node.start().get(30, TimeUnit.SECONDS);
      try (EtcdClient etcd = EtcdClient.builder().endpoints(node.clientUrl()).build();
          LeaderElection alice = new LeaderElection(etcd, "/service/leader", "alice", Duration.ofSeconds(2));
          LeaderElection bob = new LeaderElection(etcd, "/service/leader", "bob", Duration.ofSeconds(2))) {
        while (!alice.isLeader() && !bob.isLeader()) Thread.sleep(50);
        LeaderElection leader = alice.isLeader() ? alice : bob;
        LeaderElection other = leader == alice ? bob : alice;
        out.println("leader: " + leader.id() + " (lock holds " + etcd.get("/service/leader").send().value() + ")");
        leader.close();
        out.println(leader.id() + " stopped refreshing");
        long start = System.nanoTime();
        while (!other.isLeader()) Thread.sleep(50);
        out.printf("leader: %s after %d ms%n", other.id(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
      }
    } finally {
      Examples.deleteRecursively(dir);
    }
  }
}
