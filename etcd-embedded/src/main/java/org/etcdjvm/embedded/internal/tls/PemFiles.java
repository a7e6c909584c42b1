package org.etcdjvm.embedded.internal.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Certificates and private keys from PEM files, as openssl, cfssl and etcd's own tools write them,
 * with the JDK alone. Certificates: any number of {@code CERTIFICATE} blocks. Private keys,
 * unencrypted: PKCS#8 ({@code BEGIN PRIVATE KEY}: RSA, EC, Ed25519, Ed448, DSA), PKCS#1
 * ({@code BEGIN RSA PRIVATE KEY}, what etcd 0.1-era tools and {@code openssl genrsa} of OpenSSL
 * 1.x wrote) and SEC1 ({@code BEGIN EC PRIVATE KEY}, with or without a {@code BEGIN EC
 * PARAMETERS} block); the last two are rewrapped as PKCS#8, which is all the JDK reads. Encrypted
 * keys are refused with the openssl command that decrypts them.
 *
 * <p>Every failure is a {@link TlsMaterialException} whose message is one sentence naming the file
 * and what is wrong with it. {@code what} names the file's role in messages, e.g. {@code "client
 * certificate"}. Stateless and thread-safe.
 */
public final class PemFiles {
  private static final Pattern BLOCK = Pattern.compile(
      "-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \\1-----", Pattern.DOTALL);
  /** PKCS#8 algorithm OIDs (DER content bytes) to the JDK's KeyFactory name. */
  private static final Map<String, String> ALGORITHMS = Map.of(
      hex(Der.RSA_ENCRYPTION), "RSA",
      hex(Der.EC_PUBLIC_KEY), "EC",
      "2b6570", "Ed25519",
      "2b6571", "Ed448",
      "2a864886f70d01010a", "RSASSA-PSS",
      "2a8648ce380401", "DSA");

  private PemFiles() {
  }

  /** One PEM block: its label, its headers (RFC 1421 {@code Name: value} lines) and its decoded bytes. */
  record Block(String label, List<String> headers, byte[] der) {
  }

  /** The certificates of {@code file}, in file order; at least one. */
  public static List<X509Certificate> certificates(Path file, String what) throws TlsMaterialException {
    return certificates(read(file, what), describe(file, what));
  }

  /** The certificates of PEM {@code text}; {@code source} names it in messages (e.g. "the client CA file /x"). */
  static List<X509Certificate> certificates(String text, String source) throws TlsMaterialException {
    List<X509Certificate> certificates = new ArrayList<>();
    CertificateFactory factory;
    try {
      factory = CertificateFactory.getInstance("X.509");
    } catch (CertificateException e) {
      throw new IllegalStateException("the JDK has no X.509 certificate factory", e);
    }
    for (Block block : blocks(text, source)) {
      if (!block.label().equals("CERTIFICATE")) {
        continue;
      }
      try {
        certificates.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(block.der())));
      } catch (CertificateException | RuntimeException e) {
        throw new TlsMaterialException(source + " holds a malformed certificate (certificate " + (certificates.size() + 1)
            + "): " + reason(e), e);
      }
    }
    if (certificates.isEmpty()) {
      throw new TlsMaterialException(source + " holds no PEM certificate (a \"-----BEGIN CERTIFICATE-----\" block)");
    }
    return List.copyOf(certificates);
  }

  /** The private key of {@code file}: its first private key block. */
  public static PrivateKey privateKey(Path file, String what) throws TlsMaterialException {
    return privateKey(read(file, what), describe(file, what), file.toString());
  }

  static PrivateKey privateKey(String text, String source, String fileName) throws TlsMaterialException {
    List<Block> blocks = blocks(text, source);
    byte[] ecParameters = null;
    for (Block block : blocks) {
      if (block.label().equals("EC PARAMETERS")) {
        ecParameters = block.der();
      }
    }
    for (Block block : blocks) {
      String label = block.label();
      if (label.equals("ENCRYPTED PRIVATE KEY") || (label.endsWith("PRIVATE KEY")
          && block.headers().stream().anyMatch(h -> h.startsWith("Proc-Type:") && h.contains("ENCRYPTED")))) {
        throw new TlsMaterialException(source + " holds an encrypted private key; give an unencrypted one"
            + " (openssl pkey -in " + fileName + " -out key.pem)");
      }
      if (label.equals("OPENSSH PRIVATE KEY") || label.equals("DSA PRIVATE KEY")) {
        throw new TlsMaterialException(source + " holds a private key in a form etcdjvm does not read (" + label
            + "); convert it to PKCS#8 (openssl pkcs8 -topk8 -nocrypt -in " + fileName + " -out key.pem)");
      }
      try {
        switch (label) {
          case "PRIVATE KEY":
            return pkcs8(block.der());
          case "RSA PRIVATE KEY":
            return pkcs8(Der.pkcs8(Der.RSA_ENCRYPTION, Der.element(Der.NULL), block.der()));
          case "EC PRIVATE KEY":
            return pkcs8(sec1ToPkcs8(block.der(), ecParameters));
          default:
            break; // a certificate or parameters: not the key
        }
      } catch (GeneralSecurityException | IllegalArgumentException e) {
        throw new TlsMaterialException(source + " holds a malformed private key (" + label + "): " + reason(e), e);
      }
    }
    throw new TlsMaterialException(source + " holds no PEM private key (a \"-----BEGIN PRIVATE KEY-----\","
        + " \"-----BEGIN RSA PRIVATE KEY-----\" or \"-----BEGIN EC PRIVATE KEY-----\" block)");
  }

  /** A PKCS#8 {@code PrivateKeyInfo}, with the KeyFactory its algorithm identifier names. */
  private static PrivateKey pkcs8(byte[] der) throws GeneralSecurityException {
    Der.Reader info = new Der.Reader(der).next(Der.SEQUENCE, "a PKCS#8 sequence").contents();
    info.next(Der.INTEGER, "the PKCS#8 version");
    byte[] oid = info.next(Der.SEQUENCE, "an algorithm identifier").contents()
        .next(Der.OBJECT_IDENTIFIER, "an algorithm OID").value();
    String algorithm = ALGORITHMS.get(hex(oid));
    if (algorithm == null) {
      throw new GeneralSecurityException("unsupported key algorithm (OID bytes " + hex(oid) + ")");
    }
    return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
  }

  /**
   * SEC1's {@code ECPrivateKey} (version 1, the key, {@code [0]} the named curve, {@code [1]} the
   * public key) inside a PKCS#8 envelope whose algorithm parameters name the same curve. The curve
   * comes from {@code [0]}, or else from a separate {@code EC PARAMETERS} block.
   */
  private static byte[] sec1ToPkcs8(byte[] sec1, byte[] ecParameters) {
    Der.Reader key = new Der.Reader(sec1).next(Der.SEQUENCE, "an EC private key sequence").contents();
    key.next(Der.INTEGER, "the EC private key version");
    key.next(Der.OCTET_STRING, "the EC private key");
    byte[] curve = null;
    while (key.hasNext()) {
      int start = key.position();
      Der.Element e = key.next();
      if (e.tag() == Der.CONTEXT_0) {
        Der.Reader inner = e.contents();
        int curveStart = inner.position();
        curve = inner.next(Der.OBJECT_IDENTIFIER, "a named curve (explicit curve parameters are not supported)")
            .encoded(curveStart);
      }
      if (start == key.position()) {
        break;
      }
    }
    if (curve == null && ecParameters != null) {
      Der.Element e = new Der.Reader(ecParameters).next(Der.OBJECT_IDENTIFIER,
          "a named curve in EC PARAMETERS (explicit curve parameters are not supported)");
      curve = e.encoded(0);
    }
    if (curve == null) {
      throw new IllegalArgumentException("the key does not name its curve");
    }
    return Der.pkcs8(Der.EC_PUBLIC_KEY, curve, sec1);
  }

  /** The PEM blocks of {@code text}; none is an error. */
  static List<Block> blocks(String text, String source) throws TlsMaterialException {
    List<Block> blocks = new ArrayList<>();
    Matcher m = BLOCK.matcher(text);
    while (m.find()) {
      List<String> headers = new ArrayList<>();
      StringBuilder base64 = new StringBuilder();
      for (String line : m.group(2).split("\r?\n")) {
        String l = line.strip();
        if (l.contains(":")) {
          headers.add(l);
        } else {
          base64.append(l);
        }
      }
      try {
        blocks.add(new Block(m.group(1), List.copyOf(headers), Base64.getDecoder().decode(base64.toString())));
      } catch (IllegalArgumentException e) {
        throw new TlsMaterialException(source + " is not valid PEM: the " + m.group(1) + " block is not base64", e);
      }
    }
    if (blocks.isEmpty()) {
      throw new TlsMaterialException(source + " is not a PEM file (no \"-----BEGIN ...-----\" block)");
    }
    return blocks;
  }

  private static String read(Path file, String what) throws TlsMaterialException {
    try {
      if (Files.isDirectory(file)) {
        throw new TlsMaterialException("cannot read the " + what + " file " + file + ": it is a directory");
      }
      byte[] bytes = Files.readAllBytes(file);
      if (bytes.length > 1024 * 1024) {
        throw new TlsMaterialException("the " + what + " file " + file + " is too large for a PEM file ("
            + bytes.length + " bytes)");
      }
      return new String(bytes, StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      throw new TlsMaterialException("cannot read the " + what + " file " + file + ": it does not exist", e);
    } catch (AccessDeniedException e) {
      throw new TlsMaterialException("cannot read the " + what + " file " + file + ": permission denied", e);
    } catch (IOException e) {
      throw new TlsMaterialException("cannot read the " + what + " file " + file + ": " + reason(e), e);
    }
  }

  private static String describe(Path file, String what) {
    return "the " + what + " file " + file;
  }

  private static String reason(Throwable e) {
    String message = e.getMessage();
    return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
  }

  private static String hex(byte[] bytes) {
    StringBuilder s = new StringBuilder();
    for (byte b : bytes) {
      s.append(String.format("%02x", b));
    }
    return s.toString();
  }
}
