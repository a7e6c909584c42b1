package org.etcdjvm.faults;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.etcdjvm.faults.check.Anomaly;

/**
 * Injects one fault at a time, from a seeded random schedule: apply, hold for 2-7 s (under load),
 * heal, wait (with a generous deadline) until the cluster is healthy again, a quiet 1-3 s, next.
 * Faults are drawn from a shuffled bag, so every kind comes up before any repeats.
 */
final class Nemesis {
  /** The kinds of fault. */
  enum Fault {
    KILL_LEADER("kill -9 the leader, restart it"),
    KILL_FOLLOWER("kill -9 a follower, restart it"),
    KILL_MAJORITY("kill -9 a majority, restart them"),
    PAUSE_LEADER("SIGSTOP the leader, SIGCONT it"),
    PARTITION_HALVES("partition into a majority and a minority"),
    ISOLATE_LEADER("cut the leader off from every other member"),
    BRIDGE("two sides that only a bridge member sees both of"),
    WIPE_REJOIN("kill a member, remove it, wipe its data, start it again with -C a survivor"),
    REMOVE_REJOIN("remove a live member (it stops), wipe it, start it again with -C a survivor"),
    JOIN_LEAVE("a new member joins under load, then is removed");

    final String what;

    Fault(String what) {
      this.what = what;
    }

    boolean partition() {
      return this == PARTITION_HALVES || this == ISOLATE_LEADER || this == BRIDGE;
    }
  }

  /** One fault as it happened (nanoTime). */
  record Event(long start, long end, Fault fault, String description) {}

  static final Duration RECOVERY = Duration.ofSeconds(120);
  static final Duration READY = Duration.ofSeconds(120);

  private final Cluster cluster;
  private final Random rnd;
  private final long origin;
  private final List<Fault> kinds = new ArrayList<>();
  private final List<Fault> bag = new ArrayList<>();
  private final Consumer<String> log;
  final List<Event> events = Collections.synchronizedList(new ArrayList<>());
  final List<Anomaly> problems = Collections.synchronizedList(new ArrayList<>());
  final Map<Fault, Integer> counts = new EnumMap<>(Fault.class);

  /**
   * @param only the kinds of fault to draw from (empty: all); from {@code etcdjvm.faults.only} or
   *     {@code --only}, to aim a run at one kind
   */
  Nemesis(Cluster cluster, long seed, long origin, java.util.Set<Fault> only, Consumer<String> log) {
    this.cluster = cluster;
    this.rnd = new Random(seed ^ 0x5DEECE66DL);
    this.origin = origin;
    this.log = log;
    for (Fault f : Fault.values()) {
      if (!only.isEmpty() && !only.contains(f)) {
        continue;
      }
      if (f.partition() && !cluster.net.canPartition()) {
        continue;
      }
      if (f == Fault.JOIN_LEAVE && cluster.slots() <= cluster.size) {
        continue;
      }
      kinds.add(f);
    }
    if (kinds.isEmpty()) {
      throw new IllegalArgumentException("no fault to inject among " + only + " here");
    }
  }

  /** {@code "KILL_LEADER,pause_leader"} -> the set; blank -> empty (all kinds). */
  static java.util.Set<Fault> parse(String kinds) {
    java.util.Set<Fault> out = java.util.EnumSet.noneOf(Fault.class);
    if (kinds != null) {
      for (String k : kinds.split(",")) {
        if (!k.isBlank()) {
          out.add(Fault.valueOf(k.strip().toUpperCase(java.util.Locale.ROOT).replace('-', '_')));
        }
      }
    }
    return out;
  }

  private Fault next() {
    if (bag.isEmpty()) {
      bag.addAll(kinds);
      Collections.shuffle(bag, rnd);
    }
    return bag.remove(bag.size() - 1);
  }

  /** Injects faults until {@code deadline} (nanoTime); false if the cluster could not be brought back. */
  boolean run(long deadline) throws Exception {
    while (System.nanoTime() < deadline) {
      Fault f = next();
      long start = System.nanoTime();
      String description = inject(f, 2000 + rnd.nextInt(5001));
      if (description == null) {
        continue;
      }
      events.add(new Event(start, System.nanoTime(), f, description));
      counts.merge(f, 1, Integer::sum);
      if (!recover("after " + description)) {
        return false;
      }
      Thread.sleep(1000 + rnd.nextInt(2001));
    }
    return true;
  }

  /** Heals everything and waits for health: the end of a schedule. */
  boolean finish() throws Exception {
    cluster.repairAll();
    return recover("after the final heal");
  }

  private boolean recover(String when) throws Exception {
    String problem = cluster.awaitHealthy(RECOVERY);
    if (problem == null) {
      return true;
    }
    List<String> lines = new ArrayList<>();
    lines.add("state: " + cluster.describe());
    for (NodeProcess n : cluster.all()) {
      lines.add("---- " + n + " log tail:");
      for (String l : n.tail(8).split("\n")) {
        lines.add("  " + l);
      }
    }
    problems.add(new Anomaly("recovery", "the cluster was not healthy within " + RECOVERY.toSeconds() + " s "
        + when + ": " + problem, lines));
    log.accept("cluster not healthy " + when + ": " + problem + "; repairing");
    cluster.repairAll();
    return cluster.awaitHealthy(RECOVERY) == null;
  }

  private String at() {
    return String.format("%7.1f s", (System.nanoTime() - origin) / 1e9);
  }

  private void note(String s) {
    log.accept(at() + "  " + s);
  }

  /** Applies {@code f}, holds it {@code holdMillis}, heals it; returns what was done, or null if skipped. */
  private String inject(Fault f, int holdMillis) throws Exception {
    NodeProcess leader = cluster.awaitLeader(Duration.ofSeconds(30));
    if (leader == null) {
      note("no single leader to aim at; skipping " + f);
      Thread.sleep(500);
      return null;
    }
    List<Integer> members = new ArrayList<>(new TreeSet<>(cluster.members));
    Collections.shuffle(members, rnd);
    List<Integer> followers = new ArrayList<>(members);
    followers.remove(Integer.valueOf(leader.slot));
    if (followers.isEmpty()) {
      note("a cluster of one member left; skipping " + f);
      Thread.sleep(500);
      return null;
    }
    String d;
    switch (f) {
      case KILL_LEADER -> {
        d = "kill -9 " + leader + " (leader)";
        note(d);
        leader.kill();
        Thread.sleep(holdMillis);
        cluster.restart(leader.slot);
      }
      case KILL_FOLLOWER -> {
        NodeProcess v = cluster.node(followers.get(0));
        d = "kill -9 " + v + " (follower)";
        note(d);
        v.kill();
        Thread.sleep(holdMillis);
        cluster.restart(v.slot);
      }
      case KILL_MAJORITY -> {
        List<Integer> victims = members.subList(0, members.size() / 2 + 1);
        d = "kill -9 " + names(victims) + " (majority; leader " + leader + ")";
        note(d);
        for (int v : victims) {
          cluster.node(v).kill();
        }
        Thread.sleep(holdMillis);
        for (int v : victims) {
          cluster.restart(v);
        }
      }
      case PAUSE_LEADER -> {
        d = "SIGSTOP " + leader + " (leader) for " + holdMillis + " ms";
        note(d);
        leader.pause();
        Thread.sleep(holdMillis);
        leader.resume();
      }
      case PARTITION_HALVES -> {
        List<Integer> minority = members.subList(0, (members.size() - 1) / 2);
        List<Integer> majority = members.subList((members.size() - 1) / 2, members.size());
        d = "partition " + names(minority) + " | " + names(majority) + " (leader " + leader + ")";
        note(d);
        cutBetween(minority, majority);
        Thread.sleep(holdMillis);
        cluster.net.healAll();
      }
      case ISOLATE_LEADER -> {
        d = "isolate " + leader + " (leader) from " + names(followers);
        note(d);
        cutBetween(List.of(leader.slot), followers);
        Thread.sleep(holdMillis);
        cluster.net.healAll();
      }
      case BRIDGE -> {
        int half = (members.size() - 1) / 2;
        List<Integer> a = members.subList(0, half);
        int bridge = members.get(half);
        List<Integer> b = members.subList(half + 1, members.size());
        d = "bridge: " + names(a) + " | " + cluster.node(bridge) + " | " + names(b) + " (leader " + leader + ")";
        note(d);
        cutBetween(a, b);
        Thread.sleep(holdMillis);
        cluster.net.healAll();
      }
      case WIPE_REJOIN -> {
        NodeProcess v = cluster.node(rnd.nextInt(3) == 0 ? leader.slot : followers.get(0));
        d = "wipe " + v + (v == leader ? " (leader)" : "") + ": kill, remove, wipe, rejoin";
        note(d);
        v.kill();
        if (!removeThenRejoin(v, d)) {
          return d + " (could not complete)";
        }
      }
      case REMOVE_REJOIN -> {
        NodeProcess v = cluster.node(rnd.nextInt(3) == 0 ? leader.slot : followers.get(0));
        d = "remove live " + v + (v == leader ? " (leader)" : "") + ", then wipe and rejoin";
        note(d);
        String err = cluster.remove(v.slot, Duration.ofSeconds(60));
        if (err != null) {
          problem(d, "DELETE /remove/" + v.name + " did not succeed: " + err);
          return d + " (remove refused)";
        }
        if (!v.awaitExit(Duration.ofSeconds(60))) {
          problem(d, Anomaly.REMOVED_MEMBER_RUNNING, v + " did not stop by itself within 60 s of its removal");
          v.kill();
        }
        Thread.sleep(holdMillis / 2);
        if (!rejoin(v, d)) {
          return d + " (could not complete)";
        }
      }
      case JOIN_LEAVE -> {
        int spare = -1;
        for (int i = 1; i <= cluster.slots(); i++) {
          if (!cluster.members.contains(i)) {
            spare = i;
          }
        }
        if (spare < 0) {
          return null;
        }
        NodeProcess s = cluster.node(spare);
        d = "join " + s + " under load, then remove it";
        note(d);
        if (!rejoin(s, d)) {
          return d + " (could not complete)";
        }
        Thread.sleep(holdMillis);
        String err = cluster.remove(s.slot, Duration.ofSeconds(60));
        if (err != null) {
          problem(d, "DELETE /remove/" + s.name + " did not succeed: " + err);
        } else if (!s.awaitExit(Duration.ofSeconds(60))) {
          problem(d, Anomaly.REMOVED_MEMBER_RUNNING, s + " did not stop by itself within 60 s of its removal");
          s.kill();
        }
      }
      default -> throw new IllegalStateException(f.name());
    }
    note("healed: " + f.name().toLowerCase(java.util.Locale.ROOT));
    return d;
  }

  private boolean removeThenRejoin(NodeProcess v, String d) throws Exception {
    String err = cluster.remove(v.slot, Duration.ofSeconds(60));
    if (err != null) {
      problem(d, "DELETE /remove/" + v.name + " did not succeed: " + err);
      cluster.restart(v.slot); // still a member: back on its data
      return false;
    }
    return rejoin(v, d);
  }

  /** Wipes {@code v} and starts it joining through a survivor; waits until it is ready. */
  private boolean rejoin(NodeProcess v, String d) throws IOException, InterruptedException {
    for (int attempt = 1; attempt <= 3; attempt++) {
      String survivor = cluster.survivorPeer(v.slot);
      if (survivor == null) {
        problem(d, "no serving member to join through");
        return false;
      }
      cluster.join(v.slot, survivor);
      if (v.awaitReady(READY)) {
        return true;
      }
      v.kill();
      cluster.members.remove(v.slot);
      note(v + " did not join (attempt " + attempt + "); log tail:\n" + v.tail(10));
    }
    problem(d, v + " could not join again in 3 attempts; log tail: " + v.tail(10));
    return false;
  }

  private void problem(String during, String what) {
    problem(during, "recovery", what);
  }

  private void problem(String during, String kind, String what) {
    problems.add(Anomaly.kind("recovery", kind, what + " (during: " + during + ")"));
    note("PROBLEM: " + what);
  }

  private void cutBetween(List<Integer> a, List<Integer> b) {
    for (int x : a) {
      for (int y : b) {
        cluster.net.cut(x, y);
        cluster.net.cut(y, x);
      }
    }
  }

  private String names(List<Integer> slots) {
    List<String> out = new ArrayList<>();
    for (int s : new TreeSet<>(slots)) {
      out.add(cluster.node(s).name);
    }
    return "{" + String.join(",", out) + "}";
  }
}
