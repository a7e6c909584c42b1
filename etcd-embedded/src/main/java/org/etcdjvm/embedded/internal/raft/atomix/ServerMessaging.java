package org.etcdjvm.embedded.internal.raft.atomix;

import io.atomix.cluster.MemberId;
import io.atomix.cluster.messaging.ClusterCommunicationService;
import io.atomix.protocols.raft.RaftError;
import io.atomix.protocols.raft.protocol.AppendRequest;
import io.atomix.protocols.raft.protocol.JoinRequest;
import io.atomix.protocols.raft.protocol.JoinResponse;
import io.atomix.protocols.raft.protocol.PollResponse;
import io.atomix.protocols.raft.protocol.RaftResponse;
import io.atomix.protocols.raft.protocol.VoteResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * The Raft server's messaging. On top of a bounded reply timeout for requests between members
 * (see {@link BoundedTimeoutCommunicationService}) it changes how Atomix 3.1.12 handles some
 * requests, without touching Atomix (subjects are {@code <group>-<request>}, as
 * {@code RaftServerCommunicator} names them):
 *
 * <ol>
 *   <li><b>Leader stickiness.</b> A follower that heard from the current leader less than half an
 *       election timeout ago rejects poll (pre-vote) and vote requests without handing them to
 *       Atomix (Raft thesis §9.6; etcd's CheckQuorum/PreVote). Atomix grants a poll to any
 *       candidate whose log is up to date, so a restarted member whose heartbeat timer runs out
 *       before the leader contacts it again (Atomix's leader backs off from a member that failed,
 *       up to 60 s) used to win an election and depose a healthy leader. When the leader is really
 *       gone, every follower has been silent for at least an election timeout before anyone polls,
 *       so elections are not delayed.
 *   <li><b>Configure before bootstrap.</b> Atomix registers the server's handlers when the server
 *       is built, before {@code bootstrap}/{@code join} gives it a configuration; a leader's
 *       {@code configure} request arriving in that gap fails in {@code InactiveRole.onConfigure}
 *       ("configuration cannot be null", an ERROR, and no answer). Such requests are held until
 *       {@link #configured()}, then handled normally.
 *   <li><b>Joins the leader refuses.</b> A join request for a new member reaching the leader of a
 *       cluster that has {@code maxsize} members already (etcd's error 103; Atomix itself has no
 *       limit), and one from a removed member restarted on its old data directory (Atomix's leader
 *       would add it back). The joining member's own messaging recognises the refusal and reports
 *       it, since Atomix's join would otherwise retry forever.
 *   <li><b>A full disk.</b> While the data directory's disk is below its floor, a follower
 *       declines appends that carry entries (the leader sends them again later) instead of
 *       writing them into a log whose next segment it may not be able to allocate.
 *   <li><b>Durable acknowledgements.</b> A follower flushes appended entries before it acknowledges
 *       them ({@link #flushBeforeAcknowledging}).
 *   <li><b>Leader freshness.</b> The time of the last append from a leader of the current term is
 *       kept, so that the node does not name a leader that has been silent for an election timeout.
 * </ol>
 */
final class ServerMessaging extends BoundedTimeoutCommunicationService {
  /** Starts the message of a join we refused, so that the joining side recognises it. */
  static final String REFUSED = "etcdjvm refused: ";

  /** What the server's cluster looks like, for the join check. */
  interface Membership {
    boolean isLeader();

    int memberCount();

    boolean isMember(MemberId member);
  }

  private final String configureSubject;
  private final String appendSubject;
  private final String pollSubject;
  private final String voteSubject;
  private final String joinSubject;
  private final String reconfigureSubject;
  private final String leaveSubject;
  private final long stickyNanos;
  private final long configurationChangeWaitMillis;
  /** The last join, promotion or leave handed to Atomix here; the next waits for its answer. */
  private CompletableFuture<?> lastConfigurationChange = CompletableFuture.completedFuture(null);
  private final LongSupplier currentTerm;
  private final BooleanSupplier isFollower;
  private final Membership membership;
  private final int maxMembers;
  private final Consumer<String> joinRefused;
  private final BooleanSupplier diskLow;
  private final LongSupplier lastLogIndex;
  /** Flushes the local log; runs on the Raft thread, or null when followers need not flush. */
  private volatile Runnable flushLog;
  private volatile java.util.concurrent.Executor raftThread;
  private final CompletableFuture<Void> configured = new CompletableFuture<>();
  /** System.nanoTime() of the last append of the current term; 0 before any. */
  private volatile long lastLeaderContact;

  /**
   * @param electionTimeout the Raft election timeout; stickiness lasts half of it
   * @param currentTerm     the server's current term
   * @param isFollower      whether the server is a follower right now
   * @param maxMembers      members the cluster admits at most
   * @param joinRefused     called with the leader's message when this member's own join is refused
   */
  ServerMessaging(ClusterCommunicationService delegate, Duration timeout, String group, Duration electionTimeout,
      LongSupplier currentTerm, BooleanSupplier isFollower, Membership membership, int maxMembers,
      Consumer<String> joinRefused, BooleanSupplier diskLow, LongSupplier lastLogIndex) {
    super(delegate, timeout);
    this.configureSubject = group + "-configure";
    this.appendSubject = group + "-append";
    this.pollSubject = group + "-poll";
    this.voteSubject = group + "-vote";
    this.joinSubject = group + "-join";
    this.reconfigureSubject = group + "-reconfigure";
    this.leaveSubject = group + "-leave";
    this.configurationChangeWaitMillis = Math.max(timeout.toMillis(), electionTimeout.toMillis() * 10);
    this.stickyNanos = electionTimeout.toNanos() / 2;
    this.currentTerm = currentTerm;
    this.isFollower = isFollower;
    this.membership = membership;
    this.maxMembers = maxMembers;
    this.joinRefused = joinRefused;
    this.diskLow = diskLow;
    this.lastLogIndex = lastLogIndex;
  }

  /**
   * Makes a follower flush the entries of an append to disk before it acknowledges them. Atomix
   * 3.1.12's {@code PassiveRole.appendEntries} writes the entries and answers at once (the log is
   * flushed only when the commit index moves), so the leader counted acknowledgements of entries
   * that a power loss on a majority could take back. {@code flush} runs on {@code raftThread}, the
   * thread that writes the log.
   */
  void flushBeforeAcknowledging(Runnable flush, java.util.concurrent.Executor raftThread) {
    this.raftThread = raftThread;
    this.flushLog = flush;
  }

  /** The server has been given its configuration: held and later {@code configure} requests go through. */
  void configured() {
    configured.complete(null);
  }

  /** Whether this member, a follower, heard from a leader of the current term within the stickiness window. */
  boolean hearsLeader() {
    return heardLeaderWithin(stickyNanos) && isFollower.getAsBoolean();
  }

  /** Whether an append from a leader of the current term arrived within the last {@code nanos}. */
  boolean heardLeaderWithin(long nanos) {
    long last = lastLeaderContact;
    return last != 0 && System.nanoTime() - last < nanos;
  }

  /**
   * Hands joins, promotions and leaves to Atomix one at a time: each waits for the answer to the
   * one before (at most {@code configurationChangeWaitMillis}). Atomix 3.1.12's leader checks for a
   * configuration change in progress ({@code LeaderRole.configuring()}) before the change it is
   * making has been appended, so two joins that arrive together both pass, and the second
   * configuration, built from the members before the first, drops the first joiner although its
   * join was answered OK: that member then waits for a leader forever. Found by four nodes joining
   * one at once ({@code RuntimeMembershipTest.severalNodesJoiningAtOnceAllBecomeVotingMembers}).
   */
  private <R> CompletableFuture<R> oneConfigurationChangeAtATime(java.util.function.Supplier<CompletableFuture<R>> change) {
    synchronized (this) {
      CompletableFuture<R> result = lastConfigurationChange.handle((v, e) -> (Void) null)
          .completeOnTimeout(null, configurationChangeWaitMillis, java.util.concurrent.TimeUnit.MILLISECONDS)
          .thenCompose(v -> change.get());
      lastConfigurationChange = result;
      return result;
    }
  }

  /**
   * Why the leader refuses a join request for a member that is not in the configuration, or null.
   * A new member joins as PROMOTABLE ({@code RaftServer.join}); any other type not in the
   * configuration is a member that was removed and restarted on its old data directory (Atomix's
   * bootstrap from a stored configuration sends a join too, and the leader would add it again).
   */
  private String refuseJoin(io.atomix.protocols.raft.cluster.RaftMember member) {
    if (!membership.isLeader() || membership.isMember(member.memberId())) {
      return null;
    }
    if (member.getType() != io.atomix.protocols.raft.cluster.RaftMember.Type.PROMOTABLE) {
      return "this member (" + member.memberId().id() + ") was removed from the cluster; delete its data directory"
          + " to join again as a new member";
    }
    if (membership.memberCount() >= maxMembers) {
      return "error 103: Reached the max number of machines in the cluster (" + membership.memberCount() + " of "
          + maxMembers + ")";
    }
    return null;
  }

  @Override
  public <M, R> CompletableFuture<R> send(String subject, M message, Function<M, byte[]> encoder,
      Function<byte[], R> decoder, MemberId toMemberId, Duration timeout) {
    CompletableFuture<R> reply = super.send(subject, message, encoder, decoder, toMemberId, timeout);
    if (subject.equals(joinSubject)) {
      reply.thenAccept(response -> {
        if (response instanceof JoinResponse join && join.status() == RaftResponse.Status.ERROR && join.error() != null
            && join.error().message() != null && join.error().message().startsWith(REFUSED)) {
          joinRefused.accept(join.error().message().substring(REFUSED.length()));
        }
      });
    }
    return reply;
  }

  @Override
  @SuppressWarnings("unchecked")
  public <M, R> CompletableFuture<Void> subscribe(String subject, Function<byte[], M> decoder,
      Function<M, CompletableFuture<R>> handler, Function<R, byte[]> encoder) {
    Function<M, CompletableFuture<R>> wrapped = handler;
    if (subject.equals(configureSubject)) {
      wrapped = request -> configured.isDone()
          ? handler.apply(request)
          : configured.thenCompose(v -> handler.apply(request));
    } else if (subject.equals(appendSubject)) {
      wrapped = request -> {
        if (request instanceof AppendRequest append) {
          if (append.term() >= currentTerm.getAsLong()) {
            lastLeaderContact = System.nanoTime();
          }
          if (!append.entries().isEmpty() && diskLow.getAsBoolean()) {
            // No room to take entries: decline them (the leader sends them again with a later
            // heartbeat) rather than let Atomix write into a log it may not be able to extend.
            return CompletableFuture.completedFuture((R) io.atomix.protocols.raft.protocol.AppendResponse.builder()
                .withStatus(RaftResponse.Status.OK).withTerm(currentTerm.getAsLong()).withSucceeded(false)
                .withLastLogIndex(Math.min(lastLogIndex.getAsLong(), append.prevLogIndex())).build());
          }
          Runnable flush = flushLog;
          if (flush != null && !append.entries().isEmpty()) {
            return handler.apply(request).thenApplyAsync(response -> {
              if (response instanceof io.atomix.protocols.raft.protocol.AppendResponse r && r.succeeded()) {
                flush.run();
              }
              return response;
            }, raftThread);
          }
        }
        return handler.apply(request);
      };
    } else if (subject.equals(pollSubject)) {
      wrapped = request -> hearsLeader()
          ? CompletableFuture.completedFuture((R) PollResponse.builder()
              .withStatus(RaftResponse.Status.OK).withTerm(currentTerm.getAsLong()).withAccepted(false).build())
          : handler.apply(request);
    } else if (subject.equals(voteSubject)) {
      wrapped = request -> hearsLeader()
          ? CompletableFuture.completedFuture((R) VoteResponse.builder()
              .withStatus(RaftResponse.Status.OK).withTerm(currentTerm.getAsLong()).withVoted(false).build())
          : handler.apply(request);
    } else if (subject.equals(joinSubject)) {
      wrapped = request -> oneConfigurationChangeAtATime(() -> {
        String refusal = request instanceof JoinRequest join ? refuseJoin(join.member()) : null;
        return refusal == null ? handler.apply(request) : CompletableFuture.completedFuture((R) JoinResponse.builder()
            .withStatus(RaftResponse.Status.ERROR)
            .withError(new RaftError(RaftError.Type.ILLEGAL_MEMBER_STATE, REFUSED + refusal))
            .build());
      });
    } else if (subject.equals(reconfigureSubject) || subject.equals(leaveSubject)) {
      Function<M, CompletableFuture<R>> inner = wrapped;
      wrapped = request -> oneConfigurationChangeAtATime(() -> inner.apply(request));
    }
    return delegate.subscribe(subject, decoder, wrapped, encoder);
  }
}
