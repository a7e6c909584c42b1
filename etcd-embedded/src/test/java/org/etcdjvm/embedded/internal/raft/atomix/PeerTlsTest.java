package org.etcdjvm.embedded.internal.raft.atomix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.atomix.cluster.MemberId;
import io.atomix.cluster.messaging.MessagingConfig;
import io.atomix.cluster.messaging.impl.NettyMessagingService;
import io.atomix.protocols.raft.partition.impl.RaftNamespaces;
import io.atomix.protocols.raft.partition.impl.RaftServerCommunicator;
import io.atomix.protocols.raft.protocol.VoteRequest;
import io.atomix.utils.net.Address;
import io.atomix.utils.serializer.Serializer;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import okhttp3.tls.HeldCertificate;
import org.etcdjvm.embedded.TestCertificates;
import org.etcdjvm.embedded.internal.LocalCluster;
import org.etcdjvm.embedded.internal.raft.MembershipPlan.PeerStatus;
import org.etcdjvm.embedded.internal.raft.RaftConfig;
import org.etcdjvm.embedded.internal.raft.RaftNode;
import org.etcdjvm.embedded.internal.store.SetOp;
import org.etcdjvm.embedded.internal.store.StoreLimits;
import org.etcdjvm.embedded.internal.tls.TlsMaterial;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real single-member Raft group whose peer port speaks mutually authenticated TLS, probed by
 * rogue processes: Atomix messaging services in this JVM that know the cluster's name and the Raft
 * protocol, sending a status request and a forged vote with a much higher term (which would depose
 * the leader). One holding a certificate from the cluster's CA gets through — the control that
 * shows the probes would do harm; one with a certificate from another CA, and one without TLS,
 * get nothing through and leave the term as it was.
 */
class PeerTlsTest {
  private static final Serializer RAFT = Serializer.using(RaftNamespaces.RAFT_PROTOCOL);

  @TempDir Path dir;
  private final HeldCertificate ca = TestCertificates.ca("cluster CA");
  private final HeldCertificate otherCa = TestCertificates.ca("rogue CA");
  private String peer;
  private AtomixRaftGroup group;
  private RaftNode node;

  @BeforeEach
  void startMember() throws Exception {
    peer = "127.0.0.1:" + LocalCluster.freePort();
    TlsMaterial material = material(TestCertificates.signed(ca, "member"), ca);
    RaftConfig config = new RaftConfig("n1", dir.resolve("n1"), peer, null, List.of(), Duration.ofMillis(500),
        Duration.ofMillis(100), Duration.ofSeconds(5), Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofMillis(50),
        256, 1024 * 1024, 9, -1, 0, StoreLimits.defaults(), () -> material);
    node = new RaftNode(config, (state, names, diskLow) -> group = new AtomixRaftGroup(config, state, names, diskLow));
    node.start("https://127.0.0.1:4001").get(60, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() {
    if (node != null) {
      node.close();
    }
  }

  private static TlsMaterial material(HeldCertificate held, HeldCertificate trusted) throws Exception {
    return TlsMaterial.check(held.keyPair().getPrivate(), "key", List.of(held.certificate()), "certificate",
        List.of(trusted.certificate()), "CA", Instant.now());
  }

  /** A messaging service of cluster "etcd" (Atomix's handshake needs the name) on a free port; TLS from {@code tls} if not null. */
  private NettyMessagingService messaging(TlsMaterial tls) throws Exception {
    int port = LocalCluster.freePort();
    MessagingConfig config = new MessagingConfig().setInterfaces(List.of("127.0.0.1")).setPort(port);
    NettyMessagingService messaging = new NettyMessagingService("etcd", Address.from("127.0.0.1", port), config);
    if (tls == null) {
      messaging.start().get(10, TimeUnit.SECONDS);
      return messaging;
    }
    try (PeerKeyStores stores = PeerKeyStores.write(dir, tls)) {
      config.getTlsConfig().setEnabled(true).setKeyStore(stores.keyStore()).setKeyStorePassword(stores.password())
          .setTrustStore(stores.trustStore()).setTrustStorePassword(stores.password());
      messaging.start().get(10, TimeUnit.SECONDS);
    }
    return messaging;
  }

  private CompletableFuture<PeerStatus> status(NettyMessagingService from) {
    return new PeerProtocol(from, Duration.ofSeconds(3)).status(peer);
  }

  /** A vote request as a candidate at term {@code term}, with a log longer than anyone's. */
  private CompletableFuture<?> forgedVote(NettyMessagingService from, long term) {
    RaftServerCommunicator raft = new RaftServerCommunicator("etcd", RAFT,
        new BoundedTimeoutCommunicationService(new AddressRouting(null, from), Duration.ofSeconds(3)));
    return raft.vote(MemberId.from(peer), VoteRequest.builder().withTerm(term)
        .withCandidate(MemberId.from(from.address().toString())).withLastLogIndex(1_000_000).withLastLogTerm(term)
        .build());
  }

  @Test
  void aMemberWithACertificateFromTheClusterCaGetsThrough() throws Exception {
    NettyMessagingService trusted = messaging(material(TestCertificates.signed(ca, "friend"), ca));
    try {
      PeerStatus status = status(trusted).get(10, TimeUnit.SECONDS);
      assertThat(status.peer()).isEqualTo(peer);
      long term = group.term();
      forgedVote(trusted, term + 1000).get(10, TimeUnit.SECONDS);
      assertThat(group.term()).as("the forged vote reached Raft and deposed the leader").isGreaterThanOrEqualTo(term + 1000);
    } finally {
      trusted.stop().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aProcessWithACertificateFromAnotherCaGetsNothingThrough() throws Exception {
    NettyMessagingService rogue = messaging(material(TestCertificates.signed(otherCa, "rogue"), otherCa));
    try {
      assertRefused(rogue);
    } finally {
      rogue.stop().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aProcessTrustingTheClusterCaButWithAnotherCasCertificateGetsNothingThrough() throws Exception {
    // it would accept the member's certificate; the member does not accept its own
    NettyMessagingService rogue = messaging(material(TestCertificates.signed(otherCa, "rogue"), ca));
    try {
      assertRefused(rogue);
    } finally {
      rogue.stop().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aProcessWithoutTlsGetsNothingThrough() throws Exception {
    NettyMessagingService plain = messaging(null);
    try {
      assertRefused(plain);
    } finally {
      plain.stop().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void nothingListensUnauthenticatedOnThePeerPortsUdpSide() throws Exception {
    // Atomix's own unicast service would hold this UDP port (SWIM gossip); under TLS it rides on messaging.
    int port = Integer.parseInt(peer.substring(peer.lastIndexOf(':') + 1));
    try (DatagramSocket udp = new DatagramSocket(new InetSocketAddress("127.0.0.1", port))) {
      assertThat(udp.getLocalPort()).isEqualTo(port);
    }
    assertThat(java.nio.file.Files.list(dir.resolve("n1")).map(p -> p.getFileName().toString()))
        .as("the temporary key stores are gone").noneMatch(name -> name.startsWith(".peer-tls-"));
  }

  /**
   * Nothing the rogue sends gets an answer: the request fails (a TLS alert), or never completes
   * (Atomix's client does not notice a connection closed during its handshake; the wait is bounded).
   */
  private void assertRefused(NettyMessagingService rogue) throws Exception {
    long term = group.term();
    assertThatThrownBy(() -> status(rogue).get(5, TimeUnit.SECONDS))
        .isInstanceOfAny(ExecutionException.class, TimeoutException.class);
    assertThatThrownBy(() -> forgedVote(rogue, term + 1000).get(5, TimeUnit.SECONDS))
        .isInstanceOfAny(ExecutionException.class, TimeoutException.class);
    assertThat(group.term()).isEqualTo(term);
    assertThat(group.isLeader()).isTrue();
    // and the member still works
    assertThat(node.submit(new SetOp("/after", "rogue", null, null, false)).get(10, TimeUnit.SECONDS).index())
        .isPositive();
  }
}
