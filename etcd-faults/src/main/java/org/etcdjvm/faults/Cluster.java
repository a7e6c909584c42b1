package org.etcdjvm.faults;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArraySet;

/**
 * The node processes of one schedule: slots 1..n (the first {@code size} start as the cluster, the
 * rest are spares for joins), the member set as the harness believes it, and the questions the
 * nemesis asks (who leads, is everyone healthy). Everything that waits has a deadline.
 */
final class Cluster implements AutoCloseable {
  static final Duration SHORT = Duration.ofSeconds(2);

  final Network net;
  final int size;
  final NodeProcess[] nodes;
  final Set<Integer> members = new CopyOnWriteArraySet<>();
  private final Http http = new Http("cluster");

  Cluster(Network net, Path runDir, int size, int slots, List<String> nodeArgs) {
    this.net = net;
    this.size = size;
    this.nodes = new NodeProcess[slots + 1];
    for (int i = 1; i <= slots; i++) {
      nodes[i] = new NodeProcess(i, net, runDir, nodeArgs);
    }
  }

  int slots() {
    return nodes.length - 1;
  }

  NodeProcess node(int slot) {
    return nodes[slot];
  }

  List<NodeProcess> memberNodes() {
    List<NodeProcess> out = new ArrayList<>();
    for (int m : new TreeSet<>(members)) {
      out.add(nodes[m]);
    }
    return out;
  }

  /** Starts slots 1..size at once, each with the others as {@code -C}: they form the cluster together. */
  void startAll(Duration timeout) throws IOException, InterruptedException {
    for (int i = 1; i <= size; i++) {
      members.add(i);
    }
    for (int i = 1; i <= size; i++) {
      nodes[i].start(peersOf(i));
    }
    for (int i = 1; i <= size; i++) {
      if (!nodes[i].awaitReady(timeout)) {
        throw new IllegalStateException(nodes[i] + " not ready within " + timeout + "; its log:\n" + nodes[i].tail(40));
      }
    }
  }

  /** Peer addresses of the other members. */
  List<String> peersOf(int slot) {
    List<String> out = new ArrayList<>();
    for (int m : new TreeSet<>(members)) {
      if (m != slot) {
        out.add(nodes[m].peerAddress);
      }
    }
    return out;
  }

  /** Starts a member that is down again on its data directory (it rejoins its own cluster). */
  void restart(int slot) throws IOException {
    if (!nodes[slot].isAlive()) {
      nodes[slot].start(peersOf(slot));
    }
  }

  /** Members that claim to lead, by their own {@code /v1/stats/self}. */
  List<NodeProcess> claimants() {
    List<NodeProcess> out = new ArrayList<>();
    for (NodeProcess n : memberNodes()) {
      if (!n.isServing()) {
        continue;
      }
      Http.Reply r = http.get(n.clientUrl() + "/v1/stats/self", SHORT);
      if (r.isOk() && r.body().contains("\"state\":\"leader\"")) {
        out.add(n);
      }
    }
    return out;
  }

  /** The one member that leads, waiting up to {@code timeout}; null if none emerged. */
  NodeProcess awaitLeader(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    do {
      List<NodeProcess> c = claimants();
      if (c.size() == 1) {
        return c.get(0);
      }
      Thread.sleep(50);
    } while (System.nanoTime() < deadline);
    return null;
  }

  /**
   * Null when the cluster is healthy: every member runs and is ready, all name the same leader
   * (which says it leads), and the leader's {@code /v1/machines} lists exactly the members.
   * Otherwise what is wrong.
   */
  String unhealthy() {
    for (NodeProcess n : memberNodes()) {
      if (!n.isServing()) {
        return n + " is " + (n.isAlive() ? n.isPaused() ? "paused" : "not ready yet" : "down");
      }
    }
    String leaderUrl = null;
    for (NodeProcess n : memberNodes()) {
      Http.Reply r = http.get(n.clientUrl() + "/v1/leader", SHORT);
      if (!r.isOk()) {
        return n + " knows no leader: " + r.describe();
      }
      String body = r.body().strip();
      if (leaderUrl == null) {
        leaderUrl = body;
      } else if (!leaderUrl.equals(body)) {
        return "members disagree on the leader: " + leaderUrl + " vs " + body + " (" + n + ")";
      }
    }
    NodeProcess leader = null;
    for (NodeProcess n : memberNodes()) {
      if (leaderUrl != null && leaderUrl.endsWith("//" + n.peerAddress)) {
        leader = n;
      }
    }
    if (leader == null) {
      return "the leader " + leaderUrl + " is not a member";
    }
    Http.Reply self = http.get(leader.clientUrl() + "/v1/stats/self", SHORT);
    if (!self.isOk() || !self.body().contains("\"state\":\"leader\"")) {
      return leader + " is named leader but does not say so: " + self.describe();
    }
    Http.Reply machines = http.get(leader.clientUrl() + "/v1/machines", SHORT);
    if (!machines.isOk()) {
      return leader + " /v1/machines: " + machines.describe();
    }
    Set<String> listed = new TreeSet<>(List.of(machines.body().strip().split(",\\s*")));
    Set<String> expected = new TreeSet<>();
    for (NodeProcess n : memberNodes()) {
      expected.add(n.clientUrl());
    }
    if (!listed.equals(expected)) {
      return "the leader lists machines " + listed + ", expected " + expected;
    }
    return null;
  }

  /** Waits until {@link #unhealthy()} is null; returns the last problem seen, or null. */
  String awaitHealthy(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    String problem;
    do {
      problem = unhealthy();
      if (problem == null) {
        return null;
      }
      Thread.sleep(100);
    } while (System.nanoTime() < deadline);
    return problem;
  }

  /**
   * {@code DELETE /remove/<name>} through any other serving member (it forwards to the leader),
   * retried until it answers 200 (or error 100: no such member any more); null when done, else the
   * last answer.
   */
  String remove(int slot, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "no member to ask";
    do {
      for (NodeProcess via : memberNodes()) {
        if (via.slot == slot || !via.isServing()) {
          continue;
        }
        Http.Reply r = http.send("DELETE", via.clientUrl() + "/remove/" + nodes[slot].name, null,
            Duration.ofSeconds(15), 3);
        if (r.isOk() || r.errorCode() == 100) {
          members.remove(slot);
          return null;
        }
        last = via + ": " + r.describe();
      }
      Thread.sleep(200);
    } while (System.nanoTime() < deadline);
    return last;
  }

  /** The peer address of a serving member other than {@code slot}, for a join's {@code -C}. */
  String survivorPeer(int slot) {
    for (NodeProcess n : memberNodes()) {
      if (n.slot != slot && n.isServing()) {
        return n.peerAddress;
      }
    }
    return null;
  }

  /** Wipes the (stopped) slot and starts it as a new member joining through {@code -C survivor}. */
  void join(int slot, String survivor) throws IOException {
    NodeProcess n = nodes[slot];
    n.wipe();
    n.start(List.of(survivor));
    members.add(slot);
  }

  /** For the report: who runs, who is paused, the network. */
  String describe() {
    Map<String, String> state = new LinkedHashMap<>();
    for (int i = 1; i <= slots(); i++) {
      NodeProcess n = nodes[i];
      state.put(n.name, (members.contains(i) ? "member " : "spare ") + (n.isAlive() ? n.isPaused() ? "paused" : "up" : "down"));
    }
    return state + ", network " + net.describe();
  }

  /** Puts every member back: network whole, nobody paused, every member running. */
  void repairAll() throws IOException {
    net.healAll();
    for (int i = 1; i <= slots(); i++) {
      nodes[i].resume();
    }
    for (int m : members) {
      restart(m);
    }
  }

  Collection<NodeProcess> all() {
    List<NodeProcess> out = new ArrayList<>();
    for (int i = 1; i <= slots(); i++) {
      out.add(nodes[i]);
    }
    return out;
  }

  @Override
  public void close() {
    for (int i = 1; i < nodes.length; i++) {
      try {
        nodes[i].kill();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (RuntimeException e) {
        System.err.println("FAULTS could not kill " + nodes[i] + ": " + e);
      }
    }
    http.close();
  }
}
