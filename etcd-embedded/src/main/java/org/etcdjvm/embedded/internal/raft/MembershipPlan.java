package org.etcdjvm.embedded.internal.raft;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * How a starting member finds its place, decided from what it has on disk and what its peers answer
 * to "which cluster are you in?". Pure: no I/O, no clock; the Raft group asks again with every round
 * of answers until the answer is not {@link Wait}.
 *
 * <ul>
 *   <li><b>Restart.</b> A data directory with a stored configuration restarts from it, whatever
 *       {@code -C} says, unless a peer shows that this member belongs elsewhere: a peer of another
 *       cluster, or a newer configuration of this cluster without this member (it was removed).
 *   <li><b>Alone.</b> No peers: a new cluster of one (etcd 0.1's first node).
 *   <li><b>Join.</b> A peer answers as a member of a running cluster: join it at runtime (a Raft
 *       configuration change), if it has room ({@code maxsize}, error 103 otherwise) and the name is
 *       not taken by another member. If that cluster's configuration already lists this member (a
 *       static member list, or a member whose data directory was wiped), start with that
 *       configuration instead.
 *   <li><b>Static bootstrap.</b> Every answering peer is new too: once a majority of the list (this
 *       member plus its peers) answers with the same list, start a new cluster with it. A peer with a
 *       different list is refused at once: two lists would make two clusters.
 * </ul>
 */
public final class MembershipPlan {
  private MembershipPlan() {}

  /** This member's own state. {@code storedMembers} is empty and {@code storedConfigIndex} -1 for an empty data directory. */
  public record Local(String self, String name, List<String> peers, List<String> storedMembers,
      long storedConfigIndex, String clusterId) {
    public Local {
      peers = List.copyOf(peers);
      storedMembers = List.copyOf(storedMembers);
    }

    public boolean configured() {
      return !storedMembers.isEmpty();
    }

    /** This member plus its peers, sorted: the member list a static bootstrap would use. */
    List<String> intended() {
      TreeSet<String> all = new TreeSet<>(peers);
      all.add(self);
      return List.copyOf(all);
    }
  }

  /**
   * One peer's answer. A member of a cluster reports its cluster, its current configuration, the
   * leader it knows, its cluster size limit and the names registered in {@code /_etcd/machines}
   * (name → peer address); a peer that has not joined or formed a cluster yet reports the member
   * list it was started with.
   */
  public record PeerStatus(String peer, String name, boolean member, String clusterId, List<String> members,
      long configIndex, String leader, int maxSize, Map<String, String> names, List<String> intended) {
    public PeerStatus {
      members = List.copyOf(members);
      names = Map.copyOf(names);
      intended = List.copyOf(intended);
    }
  }

  /** What to do. */
  public sealed interface Decision permits Wait, Restart, Bootstrap, Join, Refuse {}

  /** Not yet: ask the peers again. */
  public record Wait(String reason) implements Decision {}

  /** Start from the stored configuration. */
  public record Restart(String clusterId) implements Decision {}

  /** Form (or re-form, as one of its listed members) a cluster with exactly these members. */
  public record Bootstrap(List<String> members, String clusterId) implements Decision {}

  /** Join the running cluster whose members are these, through a configuration change. */
  public record Join(List<String> members, String clusterId, String via) implements Decision {}

  /** Must not start; the message says why and what to do. */
  public record Refuse(String message) implements Decision {}

  /**
   * Decides from one copy of {@code answers}: the caller's collection may be a live view that
   * other threads update while this runs, and a peer that changes its answer between two passes
   * (from "new, with this list" to "member") must not be read as both.
   */
  public static Decision decide(Local local, Collection<PeerStatus> answers) {
    Objects.requireNonNull(local, "local");
    List<PeerStatus> snapshot = List.copyOf(answers);
    return local.configured() ? restart(local, snapshot) : fresh(local, snapshot);
  }

  private static Decision restart(Local local, Collection<PeerStatus> answers) {
    if (!local.storedMembers().contains(local.self())) {
      return new Refuse("this member (" + local.self() + ") was removed from the cluster: its own data directory's"
          + " configuration " + local.storedMembers() + " no longer lists it; delete the data directory to join again"
          + " as a new member");
    }
    for (PeerStatus a : answers) {
      if (!a.member()) {
        continue;
      }
      if (local.clusterId() != null && a.clusterId() != null && !a.clusterId().equals(local.clusterId())) {
        return new Refuse("the data directory belongs to cluster " + local.clusterId() + " (members "
            + local.storedMembers() + "), but the member " + a.name() + " at " + a.peer() + " belongs to cluster "
            + a.clusterId() + " (members " + a.members() + "); start this member with its own cluster's peers,"
            + " or with an empty data directory to join the other cluster");
      }
      if (a.configIndex() >= local.storedConfigIndex() && !a.members().contains(local.self())) {
        return new Refuse("this member (" + local.self() + ") was removed from the cluster: the member " + a.name()
            + " at " + a.peer() + " has configuration " + a.members() + " (index " + a.configIndex()
            + "), newer than this data directory's " + local.storedMembers() + " (index " + local.storedConfigIndex()
            + "); delete the data directory to join again as a new member");
      }
    }
    return new Restart(local.clusterId());
  }

  private static Decision fresh(Local local, Collection<PeerStatus> answers) {
    if (local.peers().isEmpty()) {
      return new Bootstrap(List.of(local.self()), randomClusterId());
    }
    PeerStatus newest = null;
    for (PeerStatus a : answers) {
      if (a.member() && (newest == null || a.configIndex() > newest.configIndex()
          || a.configIndex() == newest.configIndex() && newest.leader() == null && a.leader() != null)) {
        newest = a;
      }
    }
    if (newest != null) {
      return joinOrRejoin(local, newest);
    }
    List<String> intended = local.intended();
    List<String> agreeing = new ArrayList<>();
    for (PeerStatus a : answers) {
      List<String> theirs = List.copyOf(new TreeSet<>(a.intended()));
      if (!theirs.equals(intended)) {
        return new Refuse("the member " + a.name() + " at " + a.peer() + " was started with the member list " + theirs
            + ", this one with " + intended + ": give every member of a new cluster the same list, or start the first"
            + " member alone and the others with -C naming a running member");
      }
      agreeing.add(a.peer());
    }
    if (agreeing.size() + 1 >= intended.size() / 2 + 1) {
      return new Bootstrap(intended, staticClusterId(intended));
    }
    return new Wait(answers.isEmpty()
        ? "an answer from any of the peers " + local.peers()
        : "a majority of " + intended + " to be up (answering: " + agreeing + ")");
  }

  private static Decision joinOrRejoin(Local local, PeerStatus cluster) {
    if (cluster.members().contains(local.self())) {
      return new Bootstrap(cluster.members(), cluster.clusterId());
    }
    if (cluster.members().size() >= cluster.maxSize()) {
      return new Refuse("error 103: Reached the max number of machines in the cluster: the cluster of " + cluster.name()
          + " at " + cluster.peer() + " has " + cluster.members().size() + " members " + cluster.members()
          + " and allows " + cluster.maxSize() + " (-maxsize); remove a member first");
    }
    String holder = cluster.names().get(local.name());
    if (holder != null && !holder.equals(local.self()) && cluster.members().contains(holder)) {
      return new Refuse("the name " + local.name() + " is already used by the member at " + holder
          + " in the cluster of " + cluster.peer() + "; choose another name (-n)");
    }
    return new Join(cluster.members(), cluster.clusterId(), cluster.peer());
  }

  /** The id of a cluster bootstrapped from a static member list: the same on every member that has the same list. */
  public static String staticClusterId(List<String> sortedMembers) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256")
          .digest(String.join(",", sortedMembers).getBytes(StandardCharsets.UTF_8));
      return "s" + HexFormat.of().formatHex(digest, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static String randomClusterId() {
    byte[] bytes = new byte[8];
    new SecureRandom().nextBytes(bytes);
    return "r" + HexFormat.of().formatHex(bytes);
  }
}
