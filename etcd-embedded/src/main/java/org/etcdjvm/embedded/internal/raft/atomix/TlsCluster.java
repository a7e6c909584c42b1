package org.etcdjvm.embedded.internal.raft.atomix;

import io.atomix.cluster.AtomixCluster;
import io.atomix.cluster.AtomixClusterBuilder;
import io.atomix.cluster.ClusterConfig;
import io.atomix.cluster.messaging.ManagedMessagingService;

/**
 * Atomix's cluster services for members that talk over TLS: the same as {@link AtomixCluster}'s
 * (Netty messaging, TLS from its key store and trust store), except that unicast rides on messaging
 * ({@link MessagingUnicast}) so that nothing listens unauthenticated on the peer port. Uses
 * {@code AtomixCluster}'s protected constructor that takes the services, as of Atomix 3.1.12.
 */
final class TlsCluster extends AtomixCluster {
  private TlsCluster(ClusterConfig config, ManagedMessagingService messaging) {
    super(config, null, messaging, new MessagingUnicast(messaging), null);
  }

  /** A builder whose {@code build()} makes a {@link TlsCluster}; configure TLS on it as usual. */
  static AtomixClusterBuilder tlsBuilder() {
    return new Builder();
  }

  private static final class Builder extends AtomixClusterBuilder {
    @Override
    public AtomixCluster build() {
      return new TlsCluster(config, buildMessagingService(config));
    }
  }
}
