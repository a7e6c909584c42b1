package org.etcdjvm.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import okhttp3.tls.HandshakeCertificates;
import okhttp3.tls.HeldCertificate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTPS on the client port of two real single-node clusters on loopback: one from PEM files (an RSA
 * key in PKCS#1 form, as etcd 0.1-era tools wrote it) that requires client certificates from its
 * CA ({@code -clientCAFile}), one from an application's {@link SSLContext} without client
 * certificates. Certificates are made at run time.
 */
class ClientPortTlsTest {
  @TempDir static Path dir;
  static final HeldCertificate ca = TestCertificates.ca("etcd test CA");
  static final HeldCertificate otherCa = TestCertificates.ca("another CA");
  static final HeldCertificate client = TestCertificates.signed(ca, "client");
  static EtcdNode verifying;
  static EtcdNode serverOnly;

  @BeforeAll
  static void start() throws Exception {
    HeldCertificate nodeCert = TestCertificates.signedRsa(ca, "node");
    Path crt = TestCertificates.write(dir, "node.crt", nodeCert.certificatePem());
    Path key = TestCertificates.write(dir, "node.key", nodeCert.privateKeyPkcs1Pem());
    Path caFile = TestCertificates.write(dir, "ca.crt", ca.certificatePem());
    assertThat(java.nio.file.Files.readString(key)).startsWith("-----BEGIN RSA PRIVATE KEY-----");
    verifying = node("verifying").clientTls(TlsConfig.pem(crt, key).trustPem(caFile)).build();
    SSLContext context = new HandshakeCertificates.Builder()
        .heldCertificate(TestCertificates.signed(ca, "server-only")).build().sslContext();
    serverOnly = node("server-only").clientTls(TlsConfig.sslContext(context, false)).build();
    verifying.start().get(60, TimeUnit.SECONDS);
    serverOnly.start().get(60, TimeUnit.SECONDS);
  }

  private static EtcdNode.Builder node(String name) {
    return EtcdNode.builder().name(name).dataDir(dir.resolve(name)).clientAddress("127.0.0.1:0")
        .peerAddress("127.0.0.1:0").electionTimeout(Duration.ofMillis(500)).heartbeatInterval(Duration.ofMillis(100));
  }

  @AfterAll
  static void stop() {
    if (verifying != null) {
      verifying.close();
    }
    if (serverOnly != null) {
      serverOnly.close();
    }
  }

  @Test
  void aClientWithACertificateFromTheCaWritesAndReadsOverHttps() {
    assertThat(verifying.clientUrl()).startsWith("https://127.0.0.1:");
    V1Http curl = new V1Http(verifying.clientUrl(), TestCertificates.clientContext(ca, client));
    assertThat(curl.post("/v1/keys/secure", "value=yes").statusCode()).isEqualTo(200);
    assertThat(curl.get("/v1/keys/secure").body()).contains("\"value\":\"yes\"");
    assertThat(curl.get("/v1/machines").body()).isEqualTo(verifying.clientUrl());
  }

  @Test
  void aClientWithoutACertificateIsRefused() {
    assertThatThrownBy(() -> get(verifying.clientUrl(), TestCertificates.clientContext(ca, null)))
        .isInstanceOf(IOException.class);
  }

  @Test
  void aClientWithACertificateFromAnotherCaIsRefused() {
    HeldCertificate stranger = TestCertificates.signed(otherCa, "stranger");
    assertThatThrownBy(() -> get(verifying.clientUrl(), TestCertificates.clientContext(ca, stranger)))
        .isInstanceOf(IOException.class);
  }

  @Test
  void aNodeWithoutClientCasServesAnyClientThatTrustsItsCertificate() throws Exception {
    assertThat(serverOnly.clientUrl()).startsWith("https://");
    assertThat(get(serverOnly.clientUrl(), TestCertificates.clientContext(ca, null)).body()).isEqualTo("etcd v0.1.2");
    // the certificate is verified: a client that trusts another CA does not talk to it
    assertThatThrownBy(() -> get(serverOnly.clientUrl(), TestCertificates.clientContext(otherCa, null)))
        .isInstanceOf(IOException.class);
  }

  @Test
  void plainHttpToTheTlsPortIsAnswered400AtOnce() throws Exception {
    URI url = URI.create(verifying.clientUrl());
    long begin = System.nanoTime();
    String answer;
    try (Socket socket = new Socket(url.getHost(), url.getPort())) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(("GET /v1/keys/secure HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      answer = new String(readToEnd(socket.getInputStream()), StandardCharsets.US_ASCII);
    }
    assertThat(Duration.ofNanos(System.nanoTime() - begin)).isLessThan(Duration.ofSeconds(5));
    assertThat(answer).startsWith("HTTP/1.1 400 Bad Request\r\n")
        .endsWith("\r\n\r\nClient sent an HTTP request to an HTTPS server.\n");

    HttpResponse<String> viaJdk = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + url.getPort() + "/v1/keys/secure"))
            .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(viaJdk.statusCode()).isEqualTo(400);
  }

  @Test
  void bytesThatAreNeitherTlsNorHttpCloseTheConnectionAtOnce() throws Exception {
    URI url = URI.create(verifying.clientUrl());
    long begin = System.nanoTime();
    try (Socket socket = new Socket(url.getHost(), url.getPort())) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(new byte[] {0, 1, 2, 3, 4, 5});
      assertThat(readToEnd(socket.getInputStream())).isEmpty();
    }
    assertThat(Duration.ofNanos(System.nanoTime() - begin)).isLessThan(Duration.ofSeconds(5));
  }

  private static HttpResponse<String> get(String base, SSLContext tls) throws IOException, InterruptedException {
    HttpClient http = HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(5)).build();
    return http.send(HttpRequest.newBuilder(URI.create(base + "/version")).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static byte[] readToEnd(InputStream in) throws IOException {
    try {
      return in.readAllBytes();
    } catch (java.net.SocketException reset) {
      return new byte[0]; // a reset also ends the connection at once
    }
  }
}
