package org.etcdjvm.embedded.internal.tls;

/** Where a port's TLS material comes from; read (files) and checked on each call. */
@FunctionalInterface
public interface TlsSource {
  TlsMaterial load() throws TlsMaterialException;
}
