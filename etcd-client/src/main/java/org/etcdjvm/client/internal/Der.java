package org.etcdjvm.client.internal;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * The little ASN.1 DER that turning a PKCS#1 or SEC1 private key into PKCS#8 needs: read a
 * tag-length-value, write a SEQUENCE. Not a general DER library: no indefinite lengths (DER has
 * none), no tags over 30. The twin of etcd-embedded's {@code internal.tls.Der}: the client depends on
 * OkHttp and Moshi only, never on the server.
 */
final class Der {
  static final int INTEGER = 0x02;
  static final int OCTET_STRING = 0x04;
  static final int NULL = 0x05;
  static final int OBJECT_IDENTIFIER = 0x06;
  static final int SEQUENCE = 0x30;
  /** {@code [0]} constructed, context-specific: SEC1's curve parameters. */
  static final int CONTEXT_0 = 0xa0;

  /** 1.2.840.113549.1.1.1, PKCS#1 rsaEncryption. */
  static final byte[] RSA_ENCRYPTION = {0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01};
  /** 1.2.840.10045.2.1, id-ecPublicKey. */
  static final byte[] EC_PUBLIC_KEY = {0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};

  /** One tag-length-value inside {@code bytes}. */
  record Element(int tag, byte[] bytes, int valueStart, int valueEnd) {
    byte[] value() {
      return Arrays.copyOfRange(bytes, valueStart, valueEnd);
    }

    /** The whole element, tag and length included. */
    byte[] encoded(int start) {
      return Arrays.copyOfRange(bytes, start, valueEnd);
    }

    /** A reader over this element's contents (for a SEQUENCE or a context-specific wrapper). */
    Reader contents() {
      return new Reader(bytes, valueStart, valueEnd);
    }
  }

  /** Reads elements one after the other from part of a byte array. */
  static final class Reader {
    private final byte[] bytes;
    private int position;
    private final int end;

    Reader(byte[] bytes) {
      this(bytes, 0, bytes.length);
    }

    private Reader(byte[] bytes, int start, int end) {
      this.bytes = bytes;
      this.position = start;
      this.end = end;
    }

    boolean hasNext() {
      return position < end;
    }

    int position() {
      return position;
    }

    /** The next element; throws {@link IllegalArgumentException} if it is cut short or malformed. */
    Element next() {
      if (position + 2 > end) {
        throw new IllegalArgumentException("DER data cut short at byte " + position);
      }
      int tag = bytes[position++] & 0xff;
      if ((tag & 0x1f) == 0x1f) {
        throw new IllegalArgumentException("unsupported DER tag at byte " + (position - 1));
      }
      int length = bytes[position++] & 0xff;
      if (length > 0x7f) {
        int octets = length & 0x7f;
        if (octets == 0 || octets > 4 || position + octets > end) {
          throw new IllegalArgumentException("bad DER length at byte " + (position - 1));
        }
        length = 0;
        for (int i = 0; i < octets; i++) {
          length = (length << 8) | (bytes[position++] & 0xff);
        }
        if (length < 0) {
          throw new IllegalArgumentException("bad DER length at byte " + position);
        }
      }
      if (length > end - position) {
        throw new IllegalArgumentException("DER data cut short: " + length + " bytes announced at byte " + position
            + ", " + (end - position) + " left");
      }
      Element e = new Element(tag, bytes, position, position + length);
      position += length;
      return e;
    }

    /** The next element, which must have {@code tag}. */
    Element next(int tag, String what) {
      Element e = next();
      if (e.tag() != tag) {
        throw new IllegalArgumentException("expected " + what + ", found DER tag 0x" + Integer.toHexString(e.tag()));
      }
      return e;
    }
  }

  /** Tag, length and {@code value} concatenated. */
  static byte[] element(int tag, byte[]... parts) {
    int length = 0;
    for (byte[] part : parts) {
      length += part.length;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream(length + 6);
    out.write(tag);
    if (length < 0x80) {
      out.write(length);
    } else if (length < 0x100) {
      out.write(0x81);
      out.write(length);
    } else if (length < 0x10000) {
      out.write(0x82);
      out.write(length >> 8);
      out.write(length);
    } else {
      out.write(0x83);
      out.write(length >> 16);
      out.write(length >> 8);
      out.write(length);
    }
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  /**
   * A PKCS#8 {@code PrivateKeyInfo}: version 0, the algorithm identifier ({@code algorithm} and its
   * parameters, already encoded), and the algorithm's own private key structure.
   */
  static byte[] pkcs8(byte[] algorithm, byte[] parameters, byte[] privateKey) {
    return element(SEQUENCE,
        element(INTEGER, new byte[] {0}),
        element(SEQUENCE, element(OBJECT_IDENTIFIER, algorithm), parameters),
        element(OCTET_STRING, privateKey));
  }

  private Der() {
  }
}
