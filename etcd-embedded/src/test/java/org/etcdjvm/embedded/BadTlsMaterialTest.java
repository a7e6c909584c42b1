package org.etcdjvm.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import okhttp3.tls.HeldCertificate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad TLS material makes {@link EtcdNode#start()} fail with one sentence naming the file and the
 * problem, before any port is opened; misuse of the builder fails at once.
 */
class BadTlsMaterialTest {
  @TempDir Path dir;
  private final HeldCertificate ca = TestCertificates.ca("ca");
  private final HeldCertificate node = TestCertificates.signed(ca, "node");

  /** The message start() fails with; the client port must not have been bound. */
  private String startFailure(EtcdNode.Builder builder) throws Exception {
    int clientPort;
    try (ServerSocket s = new ServerSocket(0)) {
      clientPort = s.getLocalPort();
    }
    try (EtcdNode etcd = builder.name("bad").dataDir(dir.resolve("data")).clientAddress("127.0.0.1:" + clientPort)
        .peerAddress("127.0.0.1:0").build()) {
      ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
          () -> etcd.start().get(30, TimeUnit.SECONDS));
      assertThat(e.getCause()).isInstanceOf(IllegalStateException.class);
      try (ServerSocket s = new ServerSocket(clientPort)) {
        assertThat(s.getLocalPort()).as("the client port was never bound").isEqualTo(clientPort);
      }
      assertThat(Files.exists(dir.resolve("data"))).as("nothing was written").isFalse();
      return e.getCause().getMessage();
    }
  }

  @Test
  void aMissingCertificateFileIsNamed() throws Exception {
    Path key = TestCertificates.write(dir, "node.key", node.privateKeyPkcs8Pem());
    Path missing = dir.resolve("node.crt");
    assertThat(startFailure(EtcdNode.builder().clientTls(TlsConfig.pem(missing, key))))
        .isEqualTo("cannot read the client certificate file " + missing + ": it does not exist");
  }

  @Test
  void aMalformedKeyFileIsNamed() throws Exception {
    Path crt = TestCertificates.writePem(dir, "node", node);
    Path key = TestCertificates.write(dir, "broken.key", "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n");
    assertThat(startFailure(EtcdNode.builder().clientTls(TlsConfig.pem(crt, key))))
        .startsWith("the client key file " + key + " holds a malformed private key (PRIVATE KEY): ");
  }

  @Test
  void aKeyThatDoesNotMatchItsCertificateIsNamed() throws Exception {
    Path crt = TestCertificates.writePem(dir, "node", node);
    Path otherKey = TestCertificates.write(dir, "other.key", TestCertificates.signed(ca, "x").privateKeyPkcs8Pem());
    Path caFile = TestCertificates.write(dir, "ca.crt", ca.certificatePem());
    assertThat(startFailure(EtcdNode.builder().peerTls(TlsConfig.pem(crt, otherKey).trustPem(caFile))))
        .isEqualTo("the peer key file " + otherKey + " does not match the certificate in the peer certificate file "
            + crt + " (CN=node)");
  }

  @Test
  void anExpiredCertificateIsNamed() throws Exception {
    HeldCertificate old = TestCertificates.signed(ca, "old", Instant.now().minus(Duration.ofDays(60)), Duration.ofDays(30));
    Path crt = TestCertificates.writePem(dir, "old", old);
    Path key = dir.resolve("old.key");
    assertThat(startFailure(EtcdNode.builder().clientTls(TlsConfig.pem(crt, key))))
        .isEqualTo("the client certificate file " + crt + " holds a certificate that expired on "
            + old.certificate().getNotAfter().toInstant() + " (CN=old)");
  }

  @Test
  void aCaFileWithoutCertificatesIsNamed() throws Exception {
    Path crt = TestCertificates.writePem(dir, "node", node);
    Path notCa = TestCertificates.write(dir, "ca.crt", node.privateKeyPkcs8Pem());
    assertThat(startFailure(EtcdNode.builder().clientTls(TlsConfig.pem(crt, dir.resolve("node.key")).trustPem(notCa))))
        .isEqualTo("the client CA file " + notCa + " holds no PEM certificate (a \"-----BEGIN CERTIFICATE-----\" block)");
  }

  @Test
  void keyMaterialGivenAsObjectsIsCheckedToo() throws Exception {
    HeldCertificate other = TestCertificates.signed(ca, "other");
    assertThat(startFailure(EtcdNode.builder().clientTls(
        TlsConfig.of(other.keyPair().getPrivate(), List.of(node.certificate())))))
        .isEqualTo("the client private key does not match the certificate in the client certificate chain given"
            + " (CN=node)");
  }

  @Test
  void thePeerPortRefusesAnSslContextAndOneWayTls() throws Exception {
    Path crt = TestCertificates.writePem(dir, "node", node);
    TlsConfig oneWay = TlsConfig.pem(crt, dir.resolve("node.key"));
    assertThatThrownBy(() -> EtcdNode.builder().peerTls(oneWay)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("peerTls needs trusted CA certificates");
    TlsConfig context = TlsConfig.sslContext(SSLContext.getDefault(), true);
    assertThatThrownBy(() -> EtcdNode.builder().peerTls(context)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not an SSLContext");
    assertThatThrownBy(() -> context.trustPem(crt)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aKeyStoreWithoutExactlyOneKeyIsRefusedAtOnce() throws Exception {
    java.security.KeyStore empty = java.security.KeyStore.getInstance("PKCS12");
    empty.load(null, null);
    assertThatThrownBy(() -> TlsConfig.keyStore(empty, new char[0])).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the key store must hold exactly one private key entry, it holds 0");
    assertThatThrownBy(() -> TlsConfig.pem(dir, dir).trust(empty)).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the trust store holds no trusted certificate entry");
  }
}
