package org.etcdjvm.embedded.internal.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.interfaces.ECPrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import okhttp3.tls.HeldCertificate;
import org.etcdjvm.embedded.TestCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Keys and certificates read from PEM files in every form the node accepts, and the one-sentence refusals of bad ones. */
class PemFilesTest {
  /** 1.2.840.10045.3.1.7, P-256. */
  private static final byte[] PRIME256V1 = {0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x03, 0x01, 0x07};

  @TempDir Path dir;
  private final HeldCertificate ca = TestCertificates.ca("ca");
  private final HeldCertificate ec = TestCertificates.signed(ca, "ec-node");
  private final HeldCertificate rsa = TestCertificates.signedRsa(ca, "rsa-node");

  private TlsMaterial check(Path key, Path certificate) throws TlsMaterialException {
    return TlsMaterial.check(PemFiles.privateKey(key, "test key"), "the key file " + key,
        PemFiles.certificates(certificate, "test certificate"), "the certificate file " + certificate,
        List.of(ca.certificate()), "the CA", Instant.now());
  }

  @Test
  void pkcs8KeysOfBothKindsMatchTheirCertificates() throws Exception {
    for (HeldCertificate held : List.of(ec, rsa)) {
      Path key = TestCertificates.write(dir, "k.pem", held.privateKeyPkcs8Pem());
      Path crt = TestCertificates.write(dir, "c.pem", held.certificatePem());
      TlsMaterial material = check(key, crt);
      assertThat(material.key().getEncoded()).isEqualTo(held.keyPair().getPrivate().getEncoded());
      assertThat(material.chain()).containsExactly(held.certificate());
    }
  }

  @Test
  void pkcs1RsaKeysAreRead() throws Exception {
    Path key = TestCertificates.write(dir, "rsa.key", rsa.privateKeyPkcs1Pem());
    assertThat(Files.readString(key)).startsWith("-----BEGIN RSA PRIVATE KEY-----");
    assertThat(PemFiles.privateKey(key, "k").getEncoded()).isEqualTo(rsa.keyPair().getPrivate().getEncoded());
    check(key, TestCertificates.write(dir, "rsa.crt", rsa.certificatePem()));
  }

  @Test
  void sec1EcKeysAreReadWithTheirCurveInsideOrInAParametersBlock() throws Exception {
    byte[] s = unsigned(((ECPrivateKey) ec.keyPair().getPrivate()).getS(), 32);
    byte[] withCurve = Der.element(Der.SEQUENCE, Der.element(Der.INTEGER, new byte[] {1}),
        Der.element(Der.OCTET_STRING, s), Der.element(Der.CONTEXT_0, Der.element(Der.OBJECT_IDENTIFIER, PRIME256V1)));
    byte[] bare = Der.element(Der.SEQUENCE, Der.element(Der.INTEGER, new byte[] {1}), Der.element(Der.OCTET_STRING, s));
    Path inside = TestCertificates.write(dir, "ec1.key", pem("EC PRIVATE KEY", withCurve));
    Path apart = TestCertificates.write(dir, "ec2.key", pem("EC PARAMETERS", Der.element(Der.OBJECT_IDENTIFIER, PRIME256V1))
        + pem("EC PRIVATE KEY", bare));
    Path crt = TestCertificates.write(dir, "ec.crt", ec.certificatePem());
    for (Path key : List.of(inside, apart)) {
      PrivateKey read = PemFiles.privateKey(key, "k");
      assertThat(((ECPrivateKey) read).getS()).isEqualTo(((ECPrivateKey) ec.keyPair().getPrivate()).getS());
      check(key, crt);
    }
    Path noCurve = TestCertificates.write(dir, "ec3.key", pem("EC PRIVATE KEY", bare));
    assertThatThrownBy(() -> PemFiles.privateKey(noCurve, "peer key")).isInstanceOf(TlsMaterialException.class)
        .hasMessage("the peer key file " + noCurve + " holds a malformed private key (EC PRIVATE KEY): the key does not"
            + " name its curve");
  }

  @Test
  void aFileWithTheCertificateChainAndTheKeyTogetherIsRead() throws Exception {
    HeldCertificate intermediate = new HeldCertificate.Builder().commonName("intermediate").signedBy(ca)
        .certificateAuthority(0).duration(1, TimeUnit.DAYS).build();
    HeldCertificate leaf = TestCertificates.signed(intermediate, "leaf");
    Path both = TestCertificates.write(dir, "both.pem",
        leaf.certificatePem() + intermediate.certificatePem() + leaf.privateKeyPkcs8Pem());
    TlsMaterial material = check(both, both);
    assertThat(material.chain()).containsExactly(leaf.certificate(), intermediate.certificate());
  }

  /** Keys as openssl itself writes them (PKCS#1 RSA, SEC1 EC with a parameters block), when openssl is installed. */
  @Test
  void keysWrittenByOpensslAreRead() throws Exception {
    assumeTrue(run("openssl", "version"), "openssl is not installed");
    assumeTrue(run("openssl", "genrsa", "-traditional", "-out", dir.resolve("rsa.key").toString(), "2048")
        || run("openssl", "genrsa", "-out", dir.resolve("rsa.key").toString(), "2048"));
    assumeTrue(run("openssl", "ecparam", "-name", "prime256v1", "-genkey", "-out", dir.resolve("ec.key").toString()));
    for (String name : List.of("rsa", "ec")) {
      Path key = dir.resolve(name + ".key");
      assertThat(run("openssl", "req", "-new", "-x509", "-key", key.toString(), "-subj", "/CN=" + name, "-days", "1",
          "-out", dir.resolve(name + ".crt").toString())).isTrue();
      TlsMaterial.check(PemFiles.privateKey(key, "k"), "k", PemFiles.certificates(dir.resolve(name + ".crt"), "c"), "c",
          List.of(), "", Instant.now());
    }
    assertThat(Files.readString(dir.resolve("ec.key"))).contains("BEGIN EC PARAMETERS", "BEGIN EC PRIVATE KEY");
  }

  private static boolean run(String... command) throws Exception {
    try {
      Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .start();
      return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (java.io.IOException notInstalled) {
      return false;
    }
  }

  @Test
  void missingUnreadableAndMalformedFilesAreRefusedInOneSentence() throws Exception {
    Path missing = dir.resolve("missing.pem");
    assertThatThrownBy(() -> PemFiles.certificates(missing, "client certificate"))
        .hasMessage("cannot read the client certificate file " + missing + ": it does not exist");
    assertThatThrownBy(() -> PemFiles.privateKey(dir, "client key"))
        .hasMessage("cannot read the client key file " + dir + ": it is a directory");
    Path text = TestCertificates.write(dir, "text.pem", "hello\n");
    assertThatThrownBy(() -> PemFiles.certificates(text, "client CA"))
        .hasMessage("the client CA file " + text + " is not a PEM file (no \"-----BEGIN ...-----\" block)");
    Path keyOnly = TestCertificates.write(dir, "key-only.pem", ec.privateKeyPkcs8Pem());
    assertThatThrownBy(() -> PemFiles.certificates(keyOnly, "peer certificate"))
        .hasMessage("the peer certificate file " + keyOnly + " holds no PEM certificate (a \"-----BEGIN CERTIFICATE-----\" block)");
    Path certOnly = TestCertificates.write(dir, "cert-only.pem", ec.certificatePem());
    assertThatThrownBy(() -> PemFiles.privateKey(certOnly, "peer key"))
        .hasMessageStartingWith("the peer key file " + certOnly + " holds no PEM private key");
    Path garbled = TestCertificates.write(dir, "garbled.pem",
        "-----BEGIN CERTIFICATE-----\nTUlJQmtUQ0NBVGFnQXdJQkFnSUJBVEFL\n-----END CERTIFICATE-----\n");
    assertThatThrownBy(() -> PemFiles.certificates(garbled, "client certificate"))
        .hasMessageStartingWith("the client certificate file " + garbled + " holds a malformed certificate (certificate 1): ");
    Path notBase64 = TestCertificates.write(dir, "bad64.pem", "-----BEGIN PRIVATE KEY-----\n%%%%\n-----END PRIVATE KEY-----\n");
    assertThatThrownBy(() -> PemFiles.privateKey(notBase64, "client key"))
        .hasMessage("the client key file " + notBase64 + " is not valid PEM: the PRIVATE KEY block is not base64");
    Path truncated = TestCertificates.write(dir, "truncated.key", pem("PRIVATE KEY",
        java.util.Arrays.copyOf(ec.keyPair().getPrivate().getEncoded(), 40)));
    assertThatThrownBy(() -> PemFiles.privateKey(truncated, "client key"))
        .hasMessageStartingWith("the client key file " + truncated + " holds a malformed private key (PRIVATE KEY): ");
  }

  @Test
  void encryptedKeysAreRefusedWithTheCommandThatDecryptsThem() {
    Path pkcs8 = TestCertificates.write(dir, "enc.key", pem("ENCRYPTED PRIVATE KEY", new byte[] {0x30, 0x00}));
    assertThatThrownBy(() -> PemFiles.privateKey(pkcs8, "peer key")).isInstanceOf(TlsMaterialException.class)
        .hasMessage("the peer key file " + pkcs8 + " holds an encrypted private key; give an unencrypted one"
            + " (openssl pkey -in " + pkcs8 + " -out key.pem)");
    Path legacy = TestCertificates.write(dir, "enc1.key", "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
        + "DEK-Info: AES-128-CBC,00000000000000000000000000000000\n\nAAAA\n-----END RSA PRIVATE KEY-----\n");
    assertThatThrownBy(() -> PemFiles.privateKey(legacy, "peer key")).hasMessageContaining("holds an encrypted private key");
  }

  @Test
  void aKeyOfAnotherCertificateAnExpiredCertificateAndAnExpiredCaAreRefused() throws Exception {
    Path otherKey = TestCertificates.write(dir, "other.key", rsa.privateKeyPkcs8Pem());
    Path ecCert = TestCertificates.write(dir, "ec.crt", ec.certificatePem());
    assertThatThrownBy(() -> check(otherKey, ecCert))
        .hasMessage("the key file " + otherKey + " does not match the certificate in the certificate file " + ecCert
            + " (CN=ec-node)");
    HeldCertificate sameKeyType = TestCertificates.signed(ca, "other-ec");
    Path otherEcKey = TestCertificates.write(dir, "other-ec.key", sameKeyType.privateKeyPkcs8Pem());
    assertThatThrownBy(() -> check(otherEcKey, ecCert)).hasMessageContaining("does not match the certificate");

    Instant yearAgo = Instant.now().minus(Duration.ofDays(365));
    HeldCertificate expired = TestCertificates.signed(ca, "old", yearAgo, Duration.ofDays(30));
    Path expiredKey = TestCertificates.write(dir, "expired.key", expired.privateKeyPkcs8Pem());
    Path expiredCrt = TestCertificates.write(dir, "expired.crt", expired.certificatePem());
    assertThatThrownBy(() -> check(expiredKey, expiredCrt)).isInstanceOf(TlsMaterialException.class)
        .hasMessage("the certificate file " + expiredCrt + " holds a certificate that expired on "
            + expired.certificate().getNotAfter().toInstant() + " (CN=old)");

    HeldCertificate future = TestCertificates.signed(ca, "future", Instant.now().plus(Duration.ofDays(2)), Duration.ofDays(30));
    Path futureKey = TestCertificates.write(dir, "future.key", future.privateKeyPkcs8Pem());
    Path futureCrt = TestCertificates.write(dir, "future.crt", future.certificatePem());
    assertThatThrownBy(() -> check(futureKey, futureCrt)).hasMessageContaining("holds a certificate that is not valid before");

    HeldCertificate oldCa = new HeldCertificate.Builder().commonName("old ca").certificateAuthority(0)
        .validityInterval(yearAgo.toEpochMilli(), yearAgo.plus(Duration.ofDays(1)).toEpochMilli()).build();
    X509Certificate leaf = ec.certificate();
    assertThatThrownBy(() -> TlsMaterial.check(ec.keyPair().getPrivate(), "k", List.of(leaf), "c",
        List.of(oldCa.certificate()), "the peer CA file ca.pem", Instant.now()))
        .hasMessage("the peer CA file ca.pem holds a CA certificate that expired on "
            + oldCa.certificate().getNotAfter().toInstant() + " (CN=old ca)");
  }

  private static String pem(String label, byte[] der) {
    return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END " + label + "-----\n";
  }

  private static byte[] unsigned(BigInteger n, int length) {
    byte[] raw = n.toByteArray();
    byte[] out = new byte[length];
    int copy = Math.min(raw.length, length);
    System.arraycopy(raw, raw.length - copy, out, length - copy, copy);
    return out;
  }
}
