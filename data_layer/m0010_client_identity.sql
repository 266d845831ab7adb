-- Migration 0010_client_identity: the identity keys of contacts and companies (digests of normalised phones,
-- e-mails and INNs, data_layer.identity), replaced whole for a contact / company each time a sync saves it.
-- With the contact and company links of leads they decide which partner leads are pre-existing (derived.sql).
create table if not exists raw_client_keys (
    entity_type varchar,   -- contact | company
    entity_id bigint,
    kind varchar,          -- phone | email | inn
    value varchar,         -- identity.key_digest(kind, normalised value)
    primary key (entity_type, entity_id, kind, value)
);
