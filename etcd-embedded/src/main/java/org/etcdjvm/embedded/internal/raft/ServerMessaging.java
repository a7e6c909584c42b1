package org.etcdjvm.embedded.internal.raft;

import io.atomix.cluster.messaging.ClusterCommunicationService;
import io.atomix.protocols.raft.protocol.AppendRequest;
import io.atomix.protocols.raft.protocol.PollResponse;
import io.atomix.protocols.raft.protocol.RaftResponse;
import io.atomix.protocols.raft.protocol.VoteResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * The Raft server's messaging. On top of a bounded reply timeout for requests between members
 * (see {@link BoundedTimeoutCommunicationService}) it fixes two things in how Atomix 3.1.12 handles
 * incoming requests, without touching Atomix:
 *
 * <ol>
 *   <li><b>Leader stickiness.</b> A follower that heard from the current leader less than half an
 *       election timeout ago rejects poll (pre-vote) and vote requests without handing them to
 *       Atomix (Raft thesis §9.6; etcd's CheckQuorum/PreVote). Atomix grants a poll to any
 *       candidate whose log is up to date, so a restarted member whose heartbeat timer runs out
 *       before the leader contacts it again (Atomix's leader backs off from a member that failed,
 *       up to 60 s) used to win an election and depose a healthy leader: a needless failover on
 *       every restart. When the leader is really gone, every follower has been silent for at least
 *       an election timeout before anyone polls, so elections are not delayed.
 *   <li><b>Configure before bootstrap.</b> Atomix registers the server's handlers when the server
 *       is built, before {@code bootstrap(members)} gives it a configuration; a leader's
 *       {@code configure} request arriving in that gap fails in {@code InactiveRole.onConfigure}
 *       ("configuration cannot be null", an ERROR, and no answer). Such requests are held until
 *       {@link #bootstrapped()}, then handled normally.
 * </ol>
 */
final class ServerMessaging extends BoundedTimeoutCommunicationService {
  private final String configureSubject;
  private final String appendSubject;
  private final String pollSubject;
  private final String voteSubject;
  private final long stickyNanos;
  private final LongSupplier currentTerm;
  private final BooleanSupplier isFollower;
  private final CompletableFuture<Void> bootstrapped = new CompletableFuture<>();
  /** System.nanoTime() of the last append of the current term; 0 before any. */
  private volatile long lastLeaderContact;

  /**
   * @param electionTimeout the Raft election timeout; stickiness lasts half of it
   * @param currentTerm     the server's current term
   * @param isFollower      whether the server is a follower right now
   */
  ServerMessaging(ClusterCommunicationService delegate, Duration timeout, String group, Duration electionTimeout,
      LongSupplier currentTerm, BooleanSupplier isFollower) {
    super(delegate, timeout);
    this.configureSubject = group + "-configure";
    this.appendSubject = group + "-append";
    this.pollSubject = group + "-poll";
    this.voteSubject = group + "-vote";
    this.stickyNanos = electionTimeout.toNanos() / 2;
    this.currentTerm = currentTerm;
    this.isFollower = isFollower;
  }

  /** The server has been given its configuration: held and later {@code configure} requests go through. */
  void bootstrapped() {
    bootstrapped.complete(null);
  }

  /** Whether this member, a follower, heard from a leader of the current term within the stickiness window. */
  boolean hearsLeader() {
    long last = lastLeaderContact;
    return last != 0 && System.nanoTime() - last < stickyNanos && isFollower.getAsBoolean();
  }

  @Override
  @SuppressWarnings("unchecked")
  public <M, R> CompletableFuture<Void> subscribe(String subject, Function<byte[], M> decoder,
      Function<M, CompletableFuture<R>> handler, Function<R, byte[]> encoder) {
    Function<M, CompletableFuture<R>> wrapped = handler;
    if (subject.equals(configureSubject)) {
      wrapped = request -> bootstrapped.isDone()
          ? handler.apply(request)
          : bootstrapped.thenCompose(v -> handler.apply(request));
    } else if (subject.equals(appendSubject)) {
      wrapped = request -> {
        if (request instanceof AppendRequest append && append.term() >= currentTerm.getAsLong()) {
          lastLeaderContact = System.nanoTime();
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
    }
    return delegate.subscribe(subject, decoder, wrapped, encoder);
  }
}
