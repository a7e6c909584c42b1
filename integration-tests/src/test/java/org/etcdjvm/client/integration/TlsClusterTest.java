package org.etcdjvm.client.integration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.tls.HeldCertificate;
import org.etcdjvm.client.EtcdClient;
import org.etcdjvm.client.EtcdResponse;
import org.etcdjvm.embedded.EtcdNode;
import org.etcdjvm.embedded.TlsConfig;
import org.etcdjvm.test.EtcdCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three real in-process members with TLS on both ports, as {@code -clientCert -clientKey
 * -clientCAFile -serverCert -serverKey -serverCAFile} set it up: HTTPS with client certificates
 * for clients, mutual TLS between members. The client follows redirects over https, a member with a
 * certificate from another CA cannot join, and writes go on after the leader is closed (last).
 * Certificates are made at run time; every member uses the same one (it names 127.0.0.1).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TlsClusterTest {
  @TempDir static Path dir;
  static final HeldCertificate ca = ca("etcd cluster CA");
  static final HeldCertificate member = signed(ca, "member");
  static final HeldCertificate client = signed(ca, "client");
  static Path caFile;
  static EtcdCluster cluster;

  @BeforeAll
  static void start() throws IOException {
    caFile = write("ca.crt", ca.certificatePem());
    Path crt = write("member.crt", member.certificatePem());
    Path key = write("member.key", member.privateKeyPkcs8Pem());
    cluster = EtcdCluster.builder().nodes(3).startTimeout(Duration.ofSeconds(60))
        .configureNodes(b -> b.electionTimeout(Duration.ofMillis(500))
            .clientTls(TlsConfig.pem(crt, key).trustPem(caFile))
            .peerTls(TlsConfig.pem(crt, key).trustPem(caFile)))
        .build().start();
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static EtcdClient.Builder tlsClient(String... endpoints) {
    return EtcdClient.builder().endpoints(endpoints).trustedCertificates(ca.certificate())
        .clientCertificate(client.keyPair().getPrivate(), client.certificate());
  }

  @Test @Order(1) void aClientThatKnowsOnlyAFollowerWritesThroughTheLeaderOverHttps() throws Exception {
    int leaderIndex = cluster.leaderIndex();
    EtcdNode leader = cluster.node(leaderIndex);
    EtcdNode follower = cluster.node((leaderIndex + 1) % 3);
    assertThat(cluster.clientUrls()).allSatisfy(url -> assertThat(url).startsWith("https://127.0.0.1:"));
    assertThat(leader.peerUrl()).startsWith("https://");
    List<String> hits = Collections.synchronizedList(new ArrayList<>());
    OkHttpClient recording = new OkHttpClient.Builder()
        .addNetworkInterceptor(chain -> {
          hits.add(chain.request().method() + " " + chain.request().url());
          return chain.proceed(chain.request());
        })
        .build();
    try (EtcdClient etcd = tlsClient(follower.clientUrl()).okHttpClient(recording).autoSync(false).build()) {
      EtcdResponse set = etcd.set("/tls/a", "1").send();
      assertThat(set.newKey()).isTrue();
      assertThat(hits).containsExactly("POST " + follower.clientUrl() + "/v1/keys/tls/a",
          "POST " + leader.clientUrl() + "/v1/keys/tls/a");
      assertThat(etcd.writeEndpoint()).isEqualTo(leader.clientUrl() + "/");
      assertThat(etcd.machines().send()).hasSize(3).allSatisfy(url -> assertThat(url).startsWith("https://"))
          .first().isEqualTo(leader.clientUrl());
      assertThat(etcd.get("/tls/a").send().value()).isEqualTo("1");
    }
  }

  @Test @Order(2) void aClientWithoutACertificateIsRefused() {
    try (EtcdClient noCertificate = EtcdClient.builder().endpoints(cluster.clientUrls())
        .trustedCertificates(ca.certificate()).autoSync(false).build()) {
      assertThatThrownBy(() -> noCertificate.get("/tls/a").send()).isInstanceOf(IOException.class);
    }
  }

  /**
   * A node with a certificate from another CA (trusting that CA) asks a member to let it join, as
   * {@code -C} does: it gets no answer, fails to start, and the cluster stays as it was.
   */
  @Test @Order(3) void aMemberWithACertificateFromAnotherCaCannotJoin() throws Exception {
    HeldCertificate otherCa = ca("another CA");
    HeldCertificate intruder = signed(otherCa, "intruder");
    Path crt = write("intruder.crt", intruder.certificatePem());
    Path key = write("intruder.key", intruder.privateKeyPkcs8Pem());
    Path otherCaFile = write("other-ca.crt", otherCa.certificatePem());
    String memberPeer = cluster.node(0).peerUrl().substring("https://".length());
    try (EtcdNode node = EtcdNode.builder().name("intruder").dataDir(dir.resolve("intruder"))
        .clientAddress("127.0.0.1:0").peerAddress("127.0.0.1:0").peers(memberPeer)
        .electionTimeout(Duration.ofMillis(500)).startTimeout(Duration.ofSeconds(5))
        .peerTls(TlsConfig.pem(crt, key).trustPem(otherCaFile)).build()) {
      ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
          () -> node.start().get(30, TimeUnit.SECONDS));
      assertThat(e.getCause()).hasMessageContaining("did not start within 5000 ms")
          .hasMessageContaining("whose TLS handshake failed");
    }
    try (EtcdClient etcd = tlsClient(cluster.clientUrls().toArray(String[]::new)).build()) {
      assertThat(etcd.machines().send()).hasSize(3).noneMatch(url -> url.contains("intruder"));
      assertThat(etcd.set("/tls/after-intruder", "ok").send().value()).isEqualTo("ok");
    }
  }

  @Test @Order(4) void writesGoOnOverHttpsAfterTheLeaderIsClosed() throws Exception {
    int leaderIndex = cluster.leaderIndex();
    try (EtcdClient etcd = tlsClient(cluster.clientUrls().toArray(String[]::new)).build()) {
      etcd.set("/tls/before", "1").send();
      cluster.kill(leaderIndex);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      EtcdResponse after = null;
      while (after == null) {
        try {
          after = etcd.set("/tls/after", "2").send();
        } catch (IOException | org.etcdjvm.client.EtcdException notYet) {
          if (System.nanoTime() > deadline) {
            throw new AssertionError("no write succeeded within 30 s of closing the leader", notYet);
          }
          Thread.sleep(50);
        }
      }
      int newLeader = cluster.leaderIndex();
      assertThat(newLeader).isNotEqualTo(leaderIndex);
      assertThat(etcd.writeEndpoint()).isEqualTo(cluster.clientUrls().get(newLeader) + "/");
      assertThat(etcd.get("/tls/before").send().value()).isEqualTo("1");
      assertThat(etcd.get("/tls/after").send().value()).isEqualTo("2");
    }
  }

  private static HeldCertificate ca(String name) {
    return new HeldCertificate.Builder().commonName(name).certificateAuthority(0).duration(1, TimeUnit.DAYS).build();
  }

  private static HeldCertificate signed(HeldCertificate ca, String name) {
    return new HeldCertificate.Builder().commonName(name).signedBy(ca).addSubjectAlternativeName("127.0.0.1")
        .duration(1, TimeUnit.DAYS).build();
  }

  private static Path write(String name, String text) throws IOException {
    return Files.writeString(dir.resolve(name), text);
  }
}
