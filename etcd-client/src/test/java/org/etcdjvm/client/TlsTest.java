package org.etcdjvm.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.etcdjvm.client.Mocks.ok;
import static org.etcdjvm.client.Mocks.redirect;
import static org.etcdjvm.client.Mocks.take;

import java.io.IOException;
import java.net.ProtocolException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLPeerUnverifiedException;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import okhttp3.tls.HandshakeCertificates;
import okhttp3.tls.HeldCertificate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code https://} endpoints against MockWebServer over TLS, with certificates made at run time. */
class TlsTest {
  @TempDir Path dir;
  private final HeldCertificate ca = new HeldCertificate.Builder().commonName("ca").certificateAuthority(0)
      .duration(1, TimeUnit.DAYS).build();
  private final HeldCertificate otherCa = new HeldCertificate.Builder().commonName("other ca").certificateAuthority(0)
      .duration(1, TimeUnit.DAYS).build();
  private final HeldCertificate client = new HeldCertificate.Builder().commonName("client").signedBy(ca)
      .rsa2048().duration(1, TimeUnit.DAYS).build();
  private final MockWebServer server = new MockWebServer();
  private final MockWebServer plain = new MockWebServer();

  @AfterEach
  void stop() {
    server.close();
    plain.close();
  }

  /** Starts {@code server} over TLS with a certificate for {@code hosts} signed by {@code ca}. */
  private String https(String... hosts) throws IOException {
    HeldCertificate.Builder cert = new HeldCertificate.Builder().commonName("node").signedBy(ca)
        .duration(1, TimeUnit.DAYS);
    for (String host : hosts) cert.addSubjectAlternativeName(host);
    server.useHttps(new HandshakeCertificates.Builder().heldCertificate(cert.build())
        .addTrustedCertificate(ca.certificate()).build().sslSocketFactory());
    server.start();
    return "https://127.0.0.1:" + server.getPort();
  }

  private EtcdClient.Builder trusting(String... endpoints) {
    return EtcdClient.builder().endpoints(endpoints).autoSync(false).readTimeout(Duration.ofSeconds(5))
        .trustedCertificates(ca.certificate());
  }

  @Test void anHttpsEndpointWhoseCertificateChainsToTheTrustedCaIsUsed() throws Exception {
    String url = https("127.0.0.1");
    server.enqueue(ok(Mocks.get("/message", "Hello", 3)));
    try (EtcdClient etcd = trusting(url).build()) {
      assertThat(etcd.get("/message").send().value()).isEqualTo("Hello");
    }
    assertThat(take(server).getHandshake()).isNotNull();
  }

  @Test void aServerCertificateFromAnotherCaIsRefused() throws Exception {
    String url = https("127.0.0.1");
    try (EtcdClient etcd = EtcdClient.builder().endpoints(url).autoSync(false).trustedCertificates(otherCa.certificate())
        .build()) {
      assertThatThrownBy(() -> etcd.get("/message").send()).isInstanceOf(IOException.class);
    }
  }

  @Test void hostNamesAreVerified() throws Exception {
    String url = https("etcd.example"); // not 127.0.0.1
    try (EtcdClient etcd = trusting(url).build()) {
      assertThatThrownBy(() -> etcd.get("/message").send()).isInstanceOf(SSLPeerUnverifiedException.class);
    }
  }

  @Test void theClientCertificateIsPresentedWhenTheServerAsksForOne() throws Exception {
    String url = https("127.0.0.1");
    server.requireClientAuth();
    server.enqueue(ok(Mocks.set("/a", "1", 3)));
    try (EtcdClient etcd = trusting(url).clientCertificate(client.keyPair().getPrivate(), client.certificate())
        .build()) {
      assertThat(etcd.set("/a", "1").send().index()).isEqualTo(3);
    }
    RecordedRequest request = take(server);
    assertThat(request.getHandshake().peerCertificates()).containsExactly(client.certificate());
  }

  @Test void pemFilesGiveTheSameCertificatesAnRsaKeyInPkcs1FormIncluded() throws Exception {
    String url = https("127.0.0.1");
    server.requireClientAuth();
    server.enqueue(ok(Mocks.get("/a", "1", 3)));
    Path caFile = Files.writeString(dir.resolve("ca.crt"), ca.certificatePem());
    Path crt = Files.writeString(dir.resolve("client.crt"), client.certificatePem());
    Path key = Files.writeString(dir.resolve("client.key"), client.privateKeyPkcs1Pem());
    assertThat(Files.readString(key)).startsWith("-----BEGIN RSA PRIVATE KEY-----");
    try (EtcdClient etcd = EtcdClient.builder().endpoints(url).autoSync(false).trustedCertificates(caFile)
        .clientCertificate(crt, key).build()) {
      assertThat(etcd.get("/a").send().value()).isEqualTo("1");
    }
    assertThat(take(server).getHandshake().peerCertificates()).containsExactly(client.certificate());
  }

  @Test void badPemFilesAreRefusedInOneSentence() throws Exception {
    Path missing = dir.resolve("missing.crt");
    assertThatThrownBy(() -> EtcdClient.builder().trustedCertificates(missing))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("cannot read the CA file " + missing + ": it does not exist");
    Path crt = Files.writeString(dir.resolve("client.crt"), client.certificatePem());
    Path otherKey = Files.writeString(dir.resolve("other.key"), otherCa.privateKeyPkcs8Pem());
    assertThatThrownBy(() -> EtcdClient.builder().clientCertificate(crt, otherKey))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the client key file " + otherKey + " does not match the certificate in " + crt + " (CN=client)");
    assertThatThrownBy(() -> EtcdClient.builder().clientCertificate(crt, crt))
        .hasMessageStartingWith("the client key file " + crt + " holds no PEM private key");
  }

  @Test void aRedirectFromHttpsToHttpIsRefusedAndNothingIsSentWithoutTls() throws Exception {
    plain.start();
    String url = https("127.0.0.1");
    server.enqueue(redirect("http://127.0.0.1:" + plain.getPort() + "/v1/keys/k"));
    try (EtcdClient etcd = trusting(url).build()) {
      assertThatThrownBy(() -> etcd.set("/k", "v").send()).isInstanceOf(ProtocolException.class)
          .hasMessageContaining("Refused a redirect from https://127.0.0.1:" + server.getPort())
          .hasMessageContaining("without TLS");
    }
    assertThat(plain.getRequestCount()).isZero();
  }

  @Test void plainHttpMembersListedByAnHttpsNodeAreNotUsed() throws Exception {
    String url = https("127.0.0.1");
    server.enqueue(ok("http://127.0.0.1:1, " + url));
    try (EtcdClient etcd = trusting(url).build()) {
      assertThat(etcd.machines().send()).containsExactly("http://127.0.0.1:1", url);
      assertThat(etcd.endpoints()).containsExactly(url + "/");
      assertThat(etcd.writeEndpoint()).isEqualTo(url + "/");
    }
  }
}
