package org.etcdjvm.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import okhttp3.tls.HandshakeCertificates;
import okhttp3.tls.HeldCertificate;

/**
 * Certificates made at run time for TLS tests (okhttp-tls's {@link HeldCertificate}): a CA, and
 * node or client certificates it signs, valid for a day, naming 127.0.0.1 and localhost.
 */
public final class TestCertificates {
  private TestCertificates() {
  }

  /** A self-signed CA. ECDSA P-256, okhttp-tls's default. */
  public static HeldCertificate ca(String name) {
    return new HeldCertificate.Builder().commonName(name).certificateAuthority(0)
        .duration(1, TimeUnit.DAYS).build();
  }

  /** A certificate for 127.0.0.1 and localhost signed by {@code ca} (ECDSA P-256). */
  public static HeldCertificate signed(HeldCertificate ca, String name) {
    return builder(ca, name).build();
  }

  /** As {@link #signed}, with an RSA 2048 key (whose PKCS#1 form etcd 0.1-era tools wrote). */
  public static HeldCertificate signedRsa(HeldCertificate ca, String name) {
    return builder(ca, name).rsa2048().build();
  }

  /** As {@link #signed}, valid from {@code from} for {@code validity}. */
  public static HeldCertificate signed(HeldCertificate ca, String name, Instant from, Duration validity) {
    return builder(ca, name).validityInterval(from.toEpochMilli(), from.plus(validity).toEpochMilli()).build();
  }

  private static HeldCertificate.Builder builder(HeldCertificate ca, String name) {
    return new HeldCertificate.Builder().commonName(name).signedBy(ca)
        .addSubjectAlternativeName("127.0.0.1").addSubjectAlternativeName("localhost")
        .duration(1, TimeUnit.DAYS);
  }

  /** Writes {@code text} to {@code dir/name}. */
  public static Path write(Path dir, String name, String text) {
    try {
      return Files.writeString(dir.resolve(name), text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code name.crt} (certificate PEM) and {@code name.key} (PKCS#8 PEM) in {@code dir}; the certificate's path. */
  public static Path writePem(Path dir, String name, HeldCertificate held) {
    write(dir, name + ".key", held.privateKeyPkcs8Pem());
    return write(dir, name + ".crt", held.certificatePem());
  }

  /** A client context trusting {@code ca} only, presenting {@code client} if not null. */
  public static SSLContext clientContext(HeldCertificate ca, HeldCertificate client) {
    HandshakeCertificates.Builder b = new HandshakeCertificates.Builder().addTrustedCertificate(ca.certificate());
    if (client != null) {
      b.heldCertificate(client);
    }
    return b.build().sslContext();
  }
}
