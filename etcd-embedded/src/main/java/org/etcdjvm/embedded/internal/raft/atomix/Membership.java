package org.etcdjvm.embedded.internal.raft.atomix;

import io.atomix.cluster.MemberId;
import io.atomix.protocols.raft.RaftServer;
import io.atomix.protocols.raft.cluster.RaftMember;
import io.atomix.protocols.raft.cluster.impl.DefaultRaftMember;
import io.atomix.protocols.raft.protocol.LeaveRequest;
import io.atomix.protocols.raft.protocol.RaftResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.etcdjvm.embedded.internal.raft.MembershipPlan;
import org.etcdjvm.embedded.internal.raft.MembershipPlan.Decision;
import org.etcdjvm.embedded.internal.raft.MembershipPlan.PeerStatus;
import org.etcdjvm.embedded.internal.raft.RaftConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This member's place in the cluster, on Atomix: at start it asks its peers (and the members of
 * its stored configuration) which cluster they are in and acts on {@link MembershipPlan}'s
 * decision (restart, bootstrap, {@link RaftServer#join join}, or refuse); it answers the same
 * question for others; and it removes members (on the leader), tells them, and notices its own
 * removal. The rest of the member's state it reads from its {@link AtomixRaftGroup}.
 *
 * <p>Thread-safe.
 */
final class Membership {
  private static final Logger log = LoggerFactory.getLogger(Membership.class);

  private final AtomixRaftGroup group;
  private final RaftConfig config;
  private final MemberId self;
  private final LocalStorage storage;
  private final Supplier<Map<String, String>> registeredNames;
  /** Bootstrapped or joining: this member answers as a member of a cluster from now on. */
  private volatile boolean decided;

  Membership(AtomixRaftGroup group, RaftConfig config, MemberId self, LocalStorage storage,
      Supplier<Map<String, String>> registeredNames) {
    this.group = group;
    this.config = config;
    this.self = self;
    this.storage = storage;
    this.registeredNames = registeredNames;
  }

  /** How the start step that enters the cluster describes what it waits for. */
  String describe(Decision decision) {
    if (decision instanceof MembershipPlan.Join join) {
      return "joining the cluster of " + join.members() + " through " + join.via();
    }
    if (decision instanceof MembershipPlan.Bootstrap b) {
      return "a Raft leader among " + b.members();
    }
    return "a Raft leader (restarting from " + group.storedMembers() + ")";
  }

  /**
   * Asks the peers (and the stored configuration's members) which cluster they are in, every
   * 100 ms, until {@link MembershipPlan} decides. A restart is decided at once; the answers that
   * keep arriving while it starts can still refuse it (removed, another cluster).
   */
  CompletableFuture<Decision> plan() {
    List<String> stored = group.storedMembers();
    long storedIndex = stored.isEmpty() ? -1 : AtomixInternals.configurationIndex(group.server());
    MembershipPlan.Local local = new MembershipPlan.Local(self.id(), config.name(), config.peers(), stored,
        storedIndex, storage.clusterId());
    Set<String> targets = new LinkedHashSet<>(config.peers());
    targets.addAll(stored);
    targets.remove(self.id());
    Map<String, PeerStatus> answers = new ConcurrentHashMap<>();
    CompletableFuture<Decision> decision = new CompletableFuture<>();
    Decision first = MembershipPlan.decide(local, List.of());
    if (!(first instanceof MembershipPlan.Wait)) {
      decision.complete(first);
      if (targets.isEmpty() || !local.configured()) {
        return decision;
      }
    } else {
      group.currentStep(((MembershipPlan.Wait) first).reason());
    }
    ScheduledFuture<?> asking = group.timer().scheduleWithFixedDelay(() -> {
      for (String peer : targets) {
        group.peers().status(peer).whenComplete((status, error) -> {
          if (status == null && error != null && !decision.isDone() && !group.isClosed()) {
            String tls = tlsFailure(error);
            if (tls != null) {
              group.currentStep("an answer from " + peer + ", whose TLS handshake failed (" + tls + "): every member"
                  + " needs a certificate signed by a CA the others trust (-serverCAFile)");
            }
          }
          if (status == null || group.isClosed()) {
            return;
          }
          // Answers arrive on several messaging threads: one decision at a time, and a new member
          // stops listening once it has decided (answers still in flight describe peers that may
          // have formed the cluster in the meantime; only a restart keeps checking for removal).
          synchronized (answers) {
            if (decision.isDone() && !local.configured()) {
              return;
            }
            answers.put(peer, status);
            Decision now = MembershipPlan.decide(local, answers.values());
            if (now instanceof MembershipPlan.Refuse refuse) {
              IllegalStateException e = new IllegalStateException("node " + config.name() + " must not start: " + refuse.message());
              decision.completeExceptionally(e);
              group.refused().completeExceptionally(e);
            } else if (now instanceof MembershipPlan.Wait wait) {
              if (!decision.isDone()) {
                group.currentStep(wait.reason());
              }
            } else {
              decision.complete(now);
            }
          }
        });
      }
    }, 0, 100, TimeUnit.MILLISECONDS);
    // A restart keeps listening to the answers until it has started (or failed).
    (local.configured() ? group.started() : decision).whenComplete((v, e) -> asking.cancel(false));
    return decision;
  }

  /** The message of the TLS failure in {@code error}'s causes, or null. */
  private static String tlsFailure(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof javax.net.ssl.SSLException) {
        return t.getMessage() != null ? t.getMessage() : t.toString();
      }
    }
    return null;
  }

  CompletableFuture<Void> enter(Decision decision) {
    RaftServer s = group.server();
    CompletableFuture<RaftServer> joined;
    List<String> members;
    if (decision instanceof MembershipPlan.Refuse refuse) {
      throw new IllegalStateException(refuse.message());
    } else if (decision instanceof MembershipPlan.Restart restart) {
      members = group.storedMembers();
      if (restart.clusterId() == null) {
        storage.saveClusterId(MembershipPlan.staticClusterId(members.stream().sorted().toList()));
      }
      joined = s.bootstrap(ids(members)); // the stored configuration wins over the list
    } else if (decision instanceof MembershipPlan.Bootstrap bootstrap) {
      members = bootstrap.members();
      storage.saveClusterId(bootstrap.clusterId());
      joined = s.bootstrap(ids(members));
    } else {
      MembershipPlan.Join join = (MembershipPlan.Join) decision;
      storage.saveClusterId(join.clusterId());
      log.info("{}: joining the cluster of {} through {}", config.name(), join.members(), join.via());
      joined = s.join(ids(join.members()));
      group.serverMessaging().configured(); // join(..) has configured the server synchronously
      decided = true;
      return joined.<Void>thenApply(v -> null).exceptionallyCompose(this::promoteAgain);
    }
    group.serverMessaging().configured(); // bootstrap(..) has configured the server synchronously
    decided = true;
    if (members.size() == 1 && members.get(0).equals(self.id())) {
      s.promote().exceptionally(e -> null); // alone: no need to wait out an election timeout
    } else {
      greetLeader(joined, members);
    }
    return leaderKnown(joined);
  }

  /**
   * Atomix's join adds this member as PROMOTABLE, then asks the leader to make it ACTIVE with the
   * configuration index it knows. When another member joined or left in between (two members
   * started together) or a new leader does not know the member yet, the leader refuses and Atomix
   * gives up the start; the member is in the cluster, only not yet voting. It asks again, with the newer
   * configuration, after one to two election timeouts, until it is ACTIVE or closed (the start
   * step's timeout bounds the whole).
   */
  private CompletableFuture<Void> promoteAgain(Throwable error) {
    Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    RaftServer s = group.server();
    if (s != null && !group.isClosed() && s.cluster().getMember().getType() == RaftMember.Type.ACTIVE) {
      // Atomix retries a promotion every election timeout while one is unanswered: the first
      // made this member ACTIVE, a later one, naming the configuration before it, was refused
      return CompletableFuture.completedFuture(null);
    }
    // CONFIGURATION_ERROR (the request named an older configuration) becomes Unavailable "Configuration
    // failed"; UNKNOWN_SESSION means the member asked a leader whose configuration does not have it
    // yet (a leader elected while the join committed); a timeout, a busy machine. All pass with a
    // fresh request while the member is still PROMOTABLE (a refused join fails the start elsewhere).
    if (s == null || group.isClosed() || s.cluster().getMember().getType() != RaftMember.Type.PROMOTABLE) {
      return CompletableFuture.failedFuture(cause);
    }
    log.debug("{}: the leader did not promote this member ({}): asking again", config.name(), cause.toString());
    long delay = config.electionTimeout().toMillis()
        + java.util.concurrent.ThreadLocalRandom.current().nextLong(config.electionTimeout().toMillis() + 1);
    CompletableFuture<Void> again = new CompletableFuture<>();
    try {
      group.timer().schedule(() -> {
        if (group.isClosed()) {
          again.completeExceptionally(new IllegalStateException("closed while joining"));
          return;
        }
        s.cluster().getMember().promote(RaftMember.Type.ACTIVE)
            .whenComplete((v, e) -> {
              if (e == null) {
                again.complete(null);
              } else {
                promoteAgain(e).whenComplete((v2, e2) -> {
                  if (e2 == null) {
                    again.complete(null);
                  } else {
                    again.completeExceptionally(e2);
                  }
                });
              }
            });
      }, delay, TimeUnit.MILLISECONDS);
    } catch (RejectedExecutionException e) {
      again.completeExceptionally(new IllegalStateException("closed while joining"));
    }
    return again;
  }

  private static List<MemberId> ids(List<String> members) {
    return members.stream().map(MemberId::from).toList();
  }

  /** What this member tells a peer that asks which cluster it is in. */
  PeerStatus status() {
    RaftServer s = group.server();
    Map<String, String> names;
    try {
      names = registeredNames.get();
    } catch (RuntimeException e) {
      names = Map.of();
    }
    if (!decided || s == null) {
      List<String> intended = new ArrayList<>(config.peers());
      intended.add(self.id());
      return new PeerStatus(self.id(), config.name(), false, null, List.of(), -1, null, config.maxClusterSize(), names,
          intended);
    }
    List<String> members = new ArrayList<>();
    for (RaftMember m : s.cluster().getMembers()) {
      if (m.getType() != RaftMember.Type.INACTIVE) {
        members.add(m.memberId().id());
      }
    }
    return new PeerStatus(self.id(), config.name(), true, storage.clusterId(), members, AtomixInternals.configurationIndex(s),
        group.leader().orElse(null), config.maxClusterSize(), names, List.of());
  }

  /**
   * Completes when this member knows a leader, or when Atomix's bootstrap completes, whichever
   * is first. Atomix completes a member's bootstrap only once its join request succeeds, and a
   * request sent before any leader existed is retried only after two election timeouts. Nothing
   * later needs that join: the client talks to the leader, and readiness still waits for the
   * replica to apply this member's registration. A bootstrap that fails after that is logged.
   */
  private CompletableFuture<Void> leaderKnown(CompletableFuture<RaftServer> joined) {
    CompletableFuture<Void> known = new CompletableFuture<>();
    java.util.function.Consumer<RaftMember> listener = leader -> known.complete(null);
    RaftServer s = group.server();
    s.cluster().addLeaderElectionListener(listener);
    if (s.cluster().getLeader() != null) {
      known.complete(null);
    }
    joined.whenComplete((v, error) -> {
      if (error == null) {
        known.complete(null);
      } else if (!known.completeExceptionally(error) && !group.isClosed()) {
        log.warn("{}: Raft bootstrap failed after a leader was known: {}", config.name(), error.toString());
      }
    });
    known.whenComplete((v, e) -> s.cluster().removeLeaderElectionListener(listener));
    return known;
  }

  /**
   * Polls the other members every 100 ms, with term 0 and an empty log, until this member has
   * joined. Every member refuses such a poll without side effects, but the answers say something,
   * and the leader acts on the poll:
   *
   * <ul>
   *   <li><b>A restarting member catches up at once</b>, not after its own election timer: on any
   *       poll, Atomix's leader resets its failure count for the sender and resumes replicating to
   *       it (it backs off, up to 60 s between attempts, from a member that stopped answering).
   *   <li><b>A fresh cluster elects without waiting for a timer.</b> When every answer so far
   *       carries term 0 (no election has ever happened) and a majority (this member included)
   *       is up, the member with the smallest peer address stands for election right away
   *       ({@link RaftServer#promote()}). Any other member, or the normal timers, still elect a
   *       leader if it fails; a term above 0 in any answer means an existing cluster.
   * </ul>
   */
  private void greetLeader(CompletableFuture<RaftServer> joined, List<String> memberList) {
    List<MemberId> members = ids(memberList);
    io.atomix.protocols.raft.protocol.PollRequest hello = io.atomix.protocols.raft.protocol.PollRequest.builder()
        .withTerm(0).withCandidate(self).withLastLogIndex(0).withLastLogTerm(0).build();
    boolean designated = members.stream().min(java.util.Comparator.comparing(MemberId::id)).orElseThrow().equals(self);
    Set<MemberId> freshPeers = ConcurrentHashMap.newKeySet();
    AtomicBoolean existingCluster = new AtomicBoolean();
    AtomicBoolean promoted = new AtomicBoolean();
    try {
      for (int i = 0; i < 30; i++) {
        group.timer().schedule(() -> {
          if (joined.isDone() || group.isClosed()) {
            return;
          }
          for (MemberId member : members) {
            if (member.equals(self)) {
              continue;
            }
            group.serverProtocol().poll(member, hello).whenComplete((response, error) -> {
              if (response == null || response.status() != RaftResponse.Status.OK) {
                return;
              }
              if (response.term() > 0) {
                existingCluster.set(true);
                return;
              }
              freshPeers.add(member);
              RaftServer s = group.server();
              if (designated && !existingCluster.get() && freshPeers.size() + 1 > members.size() / 2
                  && s != null && group.term() == 0 && group.role() == RaftServer.Role.FOLLOWER && s.cluster().getLeader() == null
                  && !joined.isDone() && !group.isClosed() && promoted.compareAndSet(false, true)) {
                log.debug("{}: a fresh cluster and a majority up: standing for election now", config.name());
                s.promote().exceptionally(e -> null);
              }
            });
          }
        }, i * 100L, TimeUnit.MILLISECONDS);
      }
    } catch (RejectedExecutionException closedMeanwhile) {
      // the node is being closed
    }
  }

  /** See {@link org.etcdjvm.embedded.internal.raft.RaftGroup#remove}. */
  CompletableFuture<Void> remove(String peer) {
    if (!group.members().contains(peer)) {
      return CompletableFuture.failedFuture(new IllegalArgumentException(peer + " is not a member of the cluster " + group.members()));
    }
    if (group.isLeader()) {
      return removeHere(peer).thenApply(error -> {
        if (error != null) {
          throw new CompletionException(new IllegalStateException(error));
        }
        return null;
      });
    }
    return leaderWithin(java.time.Duration.ofMillis(config.electionTimeout().toMillis() * 4)).thenCompose(leader -> leader.equals(self.id())
        ? removeHere(peer).thenApply(error -> {
          if (error != null) {
            throw new CompletionException(new IllegalStateException(error));
          }
          return (Void) null;
        })
        : group.peers().remove(leader, peer, config.commitTimeout()));
  }

  /**
   * The leader, waiting up to {@code wait} for one (an election in progress, or a follower that
   * has not heard from the leader for a moment); fails with "no leader" after that.
   */
  private CompletableFuture<String> leaderWithin(java.time.Duration wait) {
    Optional<String> now = group.leader();
    if (now.isPresent()) {
      return CompletableFuture.completedFuture(now.get());
    }
    CompletableFuture<String> found = new CompletableFuture<>();
    ScheduledFuture<?> poll = group.timer().scheduleWithFixedDelay(
        () -> group.leader().ifPresent(found::complete), 10, 10, TimeUnit.MILLISECONDS);
    found.whenComplete((l, e) -> poll.cancel(false));
    return found.completeOnTimeout(null, wait.toMillis(), TimeUnit.MILLISECONDS).thenApply(l -> {
      if (l == null) {
        throw new CompletionException(new IllegalStateException("no leader"));
      }
      return l;
    });
  }

  /**
   * Removes {@code peer} here, on the leader; completes with null, or with the reason it was not
   * removed. Refuses what would leave the cluster without a majority of members that answer.
   */
  CompletableFuture<String> removeHere(String peer) {
    RaftServer s = group.server();
    if (s == null || !group.isLeader()) {
      return CompletableFuture.completedFuture("not the leader");
    }
    List<String> members = group.members();
    if (!members.contains(peer)) {
      return CompletableFuture.completedFuture(peer + " is not a member of the cluster " + members);
    }
    if (members.size() == 1) {
      return CompletableFuture.completedFuture("cannot remove the last member of the cluster");
    }
    List<String> remaining = new ArrayList<>(members);
    remaining.remove(peer);
    return answering(remaining).thenCompose(alive -> {
      if (alive.size() < remaining.size() / 2 + 1) {
        return CompletableFuture.completedFuture("removing " + peer + " would leave " + remaining + ", of which only "
            + alive + " answer: not a majority; bring members back first");
      }
      if (peer.equals(self.id())) {
        return leaveSelf();
      }
      LeaveRequest request = LeaveRequest.builder()
          .withMember(new DefaultRaftMember(MemberId.from(peer), RaftMember.Type.ACTIVE, Instant.now()))
          .build();
      return group.serverProtocol().leave(self, request).thenApply(response -> {
        if (response.status() != RaftResponse.Status.OK) {
          return "the leader could not change the configuration now" + (response.error() == null ? "" : ": " + response.error());
        }
        log.info("{}: removed member {} from the cluster; members now {}", config.name(), peer, group.members());
        group.peers().notifyRemoved(peer, self.id()).exceptionally(e -> null);
        return null;
      });
    });
  }

  /** The members among {@code members} that answer a status request now (this member always does). */
  private CompletableFuture<List<String>> answering(List<String> members) {
    List<CompletableFuture<String>> asks = new ArrayList<>();
    for (String m : members) {
      asks.add(m.equals(self.id()) ? CompletableFuture.completedFuture(m)
          : group.peers().status(m).handle((status, error) -> status == null ? null : m));
    }
    return CompletableFuture.allOf(asks.toArray(CompletableFuture[]::new))
        .thenApply(v -> asks.stream().map(CompletableFuture::join).filter(java.util.Objects::nonNull).toList());
  }

  /** This member leaves the configuration (through the leader, which may be itself) and stops serving. */
  private CompletableFuture<String> leaveSelf() {
    return group.server().cluster().leave().thenApply(v -> {
      group.markStopped("removed from the cluster at its own request");
      return (String) null;
    });
  }

  /**
   * Another member says this one was removed. Believed only when a member's configuration, newer
   * than ours, really lacks this member (anyone who reaches the peer port could send the notice).
   */
  void removalNotice(String sender) {
    if (removedFromOwnConfiguration()) {
      group.markStopped("removed from the cluster (its configuration no longer lists this member)");
      return;
    }
    group.peers().status(sender).whenComplete((status, error) -> {
      RaftServer s = group.server();
      if (status == null || s == null) {
        log.debug("{}: removal notice from {} not checked: {}", config.name(), sender, error == null ? "stopping" : error.toString());
        return;
      }
      long ownIndex = AtomixInternals.configurationIndex(s);
      if (status.member() && !status.members().contains(self.id())
          && (storage.clusterId() == null || storage.clusterId().equals(status.clusterId()))
          && status.configIndex() >= ownIndex) {
        group.markStopped("removed from the cluster (told by " + sender + ", whose members are " + status.members() + ")");
      } else {
        log.debug("{}: removal notice from {} not believed: its status {} (our cluster {}, configuration index {})",
            config.name(), sender, status, storage.clusterId(), ownIndex);
      }
    });
  }

  /**
   * Whether this member has a configuration that no longer lists it: it received the entry that
   * removed it (the leader may replicate it once before it stops replicating to the member).
   */
  private boolean removedFromOwnConfiguration() {
    RaftServer s = group.server();
    if (s == null || !group.serving()) {
      return false;
    }
    List<String> configured = AtomixInternals.configurationMembers(s);
    return configured != null && !configured.isEmpty() && !configured.contains(self.id());
  }

  /**
   * Every 2 s while no leader is known: a member cut off while it was removed is never told (the
   * leader stops replicating to it); it finds out from its own configuration or by asking the
   * members it knows.
   */
  void checkStillMember() {
    RaftServer s = group.server();
    if (group.isClosed() || s == null || group.stopped().isDone()) {
      return;
    }
    if (removedFromOwnConfiguration()) {
      group.markStopped("removed from the cluster (its configuration no longer lists this member)");
      return;
    }
    if (group.leader().isPresent()) {
      return;
    }
    for (String m : group.storedMembers()) {
      if (!m.equals(self.id())) {
        removalNotice(m);
      }
    }
  }

}
