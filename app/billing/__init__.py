"""The hand-off of transmitted readings to billing: adapters and the archive refresh job."""
