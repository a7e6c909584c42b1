package org.etcdjvm.embedded.internal.raft.atomix;

import io.atomix.cluster.MemberId;
import io.atomix.cluster.messaging.ClusterCommunicationService;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * The Raft client's messaging: a bounded reply timeout, and every request goes to this very member
 * while it is the leader.
 *
 * <p>Writes reach the Raft client only on the leader (followers answer 307), so the client's
 * requests belong with the local server. Atomix's client, though, keeps addressing the member it
 * last heard of as leader: right after a failover that is the dead one, and each round of
 * "connection refused, try the next member, no leader yet" ends in a back-off of a second or more.
 * Sending to the local leader directly (Atomix short-cuts messages to its own address, no socket)
 * takes the client out of the failover path.
 */
final class ClientMessaging extends BoundedTimeoutCommunicationService {
  private final MemberId self;
  private final BooleanSupplier selfIsLeader;

  ClientMessaging(ClusterCommunicationService delegate, Duration timeout, MemberId self, BooleanSupplier selfIsLeader) {
    super(delegate, timeout);
    this.self = self;
    this.selfIsLeader = selfIsLeader;
  }

  @Override
  public <M, R> CompletableFuture<R> send(String subject, M message, Function<M, byte[]> encoder,
      Function<byte[], R> decoder, MemberId toMemberId, Duration timeout) {
    MemberId to = selfIsLeader.getAsBoolean() ? self : toMemberId;
    return super.send(subject, message, encoder, decoder, to, timeout);
  }
}
