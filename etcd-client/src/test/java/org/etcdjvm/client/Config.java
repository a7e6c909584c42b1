package org.etcdjvm.client;

/** A typed value for the Moshi tests (Moshi needs records to be public). */
public record Config(String host, int port) {}
