/**
 * The seed's hospital network as a dataset: Mercy Hospital (HIPAA, phaxio), General Hospital
 * (HIPAA, SIP), a non-HIPAA Marketing department with the email gateway on, an IT department of
 * admins, the seed's example values (flat keys such as fax_backend and the dotted keys of its key
 * mapping and tenant templates), ordered group memberships, ~20 users with traits, and metadata
 * for every key it uses. Pure data: no I/O.
 */
import { categoryOf } from '../core/keys.js';
import { templateKeyMetadata } from '../core/templates/schema.js';
import { loadBuiltinTemplatesSync } from '../services/template-files.js';
import { isSecretKey } from '../core/secret-keys.js';
import type {
  Directory,
  DirectoryUser,
  InputType,
  KeyMetadata,
  Level,
  ValidationRules,
  ValueType,
} from '../core/types.js';

/** One value of a dataset, in plaintext; `secret` values are encrypted by the loader. */
export interface DemoEntry {
  level: Level;
  scope: string;
  key: string;
  value: string;
  valueType: ValueType;
  locked: boolean;
  secret: boolean;
}

/** A dataset the demo loader can write into any store. */
export interface DemoDataset {
  directory: Directory;
  metadata: KeyMetadata[];
  entries: DemoEntry[];
}

interface MetaSpec {
  displayName: string;
  inputType: InputType;
  valueType: ValueType;
  rules?: ValidationRules;
  defaultValue?: string;
  required?: boolean;
  group: string;
  help: string;
  description?: string;
}

const FAX_PROVIDERS = ['phaxio', 'sip', 'sinch', 'signalwire', 'test'];

// Metadata for the seed's known keys. Order within a category is the order of this table.
const METADATA: Record<string, MetaSpec> = {
  fax_backend: {
    displayName: 'Fax backend (legacy key)',
    inputType: 'select',
    valueType: 'string',
    rules: { options: FAX_PROVIDERS },
    group: 'Legacy keys',
    help: 'Flat key from the .env era; new services read fax.backend.provider.',
  },
  hipaa_mode: {
    displayName: 'HIPAA mode (legacy key)',
    inputType: 'checkbox',
    valueType: 'boolean',
    defaultValue: 'false',
    group: 'Legacy keys',
    help: 'Flat key from the .env era; new services read compliance.hipaa.enabled.',
  },
  email_gateway_enabled: {
    displayName: 'Email gateway (legacy key)',
    inputType: 'checkbox',
    valueType: 'boolean',
    defaultValue: 'false',
    group: 'Legacy keys',
    help: 'Flat key from the .env era; new services read features.email_gateway.enabled.',
  },
  max_file_size_mb: {
    displayName: 'Maximum upload size in MB (legacy key)',
    inputType: 'number',
    valueType: 'number',
    rules: { min: 1, max: 100 },
    defaultValue: '10',
    group: 'Legacy keys',
    help: 'Flat key from the .env era; new services read uploads.max_size_mb.',
  },
  organization_name: {
    displayName: 'Organization name',
    inputType: 'text',
    valueType: 'string',
    rules: { minLength: 1, maxLength: 200 },
    group: 'Branding',
    help: 'Shown in the header of every page and on fax cover sheets.',
  },
  branding_color: {
    displayName: 'Branding colour',
    inputType: 'text',
    valueType: 'string',
    rules: { pattern: '^#[0-9A-Fa-f]{6}$' },
    group: 'Branding',
    help: 'A hex colour such as #2E7D99.',
  },
  phi_access_enabled: {
    displayName: 'PHI access (legacy key)',
    inputType: 'checkbox',
    valueType: 'boolean',
    defaultValue: 'false',
    group: 'Legacy keys',
    help: 'Whether users may open documents containing protected health information.',
  },
  priority_processing: {
    displayName: 'Priority processing',
    inputType: 'checkbox',
    valueType: 'boolean',
    defaultValue: 'false',
    group: 'Delivery',
    help: 'Send this scope\u2019s faxes ahead of the normal queue.',
  },
  notification_urgency: {
    displayName: 'Notification urgency',
    inputType: 'select',
    valueType: 'string',
    rules: { options: ['low', 'normal', 'high'] },
    defaultValue: 'normal',
    group: 'Delivery',
    help: 'How insistently delivery failures are announced.',
  },
  'fax.backend.provider': {
    displayName: 'Fax provider',
    inputType: 'select',
    valueType: 'string',
    rules: { options: FAX_PROVIDERS, required: true },
    required: true,
    group: 'Provider',
    help: 'Which backend sends and receives faxes for this scope.',
  },
  'providers.phaxio.api_key': {
    displayName: 'Phaxio API key',
    inputType: 'password',
    valueType: 'string',
    rules: { minLength: 8 },
    group: 'Phaxio',
    help: 'From the Phaxio console; stored encrypted.',
  },
  'providers.phaxio.api_secret': {
    displayName: 'Phaxio API secret',
    inputType: 'password',
    valueType: 'string',
    rules: { minLength: 8 },
    group: 'Phaxio',
    help: 'From the Phaxio console; stored encrypted.',
  },
  'providers.sip.host': {
    displayName: 'SIP trunk host',
    inputType: 'text',
    valueType: 'string',
    rules: { pattern: '^[a-zA-Z0-9.-]+$', maxLength: 255 },
    group: 'SIP / Asterisk',
    help: 'Host name of the SIP trunk or Asterisk server.',
  },
  'providers.sip.port': {
    displayName: 'SIP port',
    inputType: 'number',
    valueType: 'number',
    rules: { min: 1, max: 65535 },
    defaultValue: '5060',
    group: 'SIP / Asterisk',
    help: 'Usually 5060 (UDP/TCP) or 5061 (TLS).',
  },
  'providers.sip.password': {
    displayName: 'SIP password',
    inputType: 'password',
    valueType: 'string',
    rules: { minLength: 8 },
    group: 'SIP / Asterisk',
    help: 'Trunk registration password; stored encrypted.',
  },
  'compliance.hipaa.enabled': {
    displayName: 'HIPAA compliance',
    inputType: 'checkbox',
    valueType: 'boolean',
    defaultValue: 'false',
    group: 'HIPAA',
    help: 'Enforces encryption, audit and retention rules for protected health information.',
  },
  'compliance.hipaa.audit_level': {
    displayName: 'HIPAA audit level',
    inputType: 'select',
    valueType: 'string',
    rules: { options: ['standard', 'maximum'] },
    defaultValue: 'standard',
    group: 'HIPAA',
    help: 'maximum records every view of a document, not only changes.',
  },
  'features.email_gateway.enabled': {
    displayName: 'Email gateway',
    inputType: 'checkbox',
    valueType: 'boolean',
    defaultValue: 'false',
    group: 'Features',
    help: 'Lets users send faxes by email. Keep off where HIPAA applies.',
  },
  'features.phi_access.enabled': {
    displayName: 'PHI access',
    inputType: 'checkbox',
    valueType: 'boolean',
    defaultValue: 'false',
    group: 'Features',
    help: 'Whether users may open documents containing protected health information.',
  },
  'features.admin_tools.enabled': {
    displayName: 'Admin tools',
    inputType: 'checkbox',
    valueType: 'boolean',
    defaultValue: 'false',
    group: 'Features',
    help: 'Diagnostics and bulk tools for IT staff.',
  },
  'uploads.max_size_mb': {
    displayName: 'Maximum upload size (MB)',
    inputType: 'number',
    valueType: 'number',
    rules: { min: 1, max: 100 },
    defaultValue: '10',
    group: 'Uploads',
    help: 'Largest document a user may upload.',
  },
  'security.default_api_key': {
    displayName: 'Default API key',
    inputType: 'password',
    valueType: 'string',
    rules: { minLength: 16 },
    group: 'API',
    help: 'Key for services that do not have their own; stored encrypted.',
  },
  'ui.theme': {
    displayName: 'Theme',
    inputType: 'select',
    valueType: 'string',
    rules: { options: ['medical', 'business', 'neutral', 'dark'] },
    defaultValue: 'neutral',
    group: 'Appearance',
    help: 'Colour scheme of the user interface.',
  },
  'ui.terminology': {
    displayName: 'Terminology',
    inputType: 'select',
    valueType: 'string',
    rules: { options: ['clinical', 'standard'] },
    defaultValue: 'standard',
    group: 'Appearance',
    help: 'clinical uses patient/chart wording; standard uses customer/document.',
  },
  'notifications.compliance_alerts': {
    displayName: 'Compliance alerts',
    inputType: 'checkbox',
    valueType: 'boolean',
    defaultValue: 'false',
    group: 'Notifications',
    help: 'Notify compliance officers of policy violations.',
  },
  'notifications.marketing_features': {
    displayName: 'Marketing features',
    inputType: 'checkbox',
    valueType: 'boolean',
    defaultValue: 'false',
    group: 'Notifications',
    help: 'Announcements of new marketing features.',
  },
  'smtp.host': {
    displayName: 'SMTP Host',
    description: 'SMTP server hostname or IP address',
    inputType: 'text',
    valueType: 'string',
    rules: { required: true, pattern: '^[a-zA-Z0-9.-]+$', minLength: 1, maxLength: 255 },
    required: true,
    group: 'Connection Settings',
    help: 'Enter your SMTP server hostname (e.g., smtp.gmail.com)',
  },
  'smtp.port': {
    displayName: 'SMTP Port',
    description: 'SMTP server port number',
    inputType: 'number',
    valueType: 'number',
    rules: { required: true, min: 1, max: 65535 },
    required: true,
    group: 'Connection Settings',
    help: 'Common ports: 25 (plain), 587 (STARTTLS), 465 (SSL)',
  },
  'smtp.secure': {
    displayName: 'Use SSL/TLS',
    description: 'Enable secure connection',
    inputType: 'select',
    valueType: 'boolean',
    rules: { required: true, options: ['true', 'false'] },
    required: true,
    group: 'Security Settings',
    help: 'Enable for ports 465 (SSL) or 587 (STARTTLS)',
  },
  'smtp.auth_user': {
    displayName: 'Username',
    description: 'SMTP authentication username',
    inputType: 'text',
    valueType: 'string',
    rules: { required: true, minLength: 3 },
    required: true,
    group: 'Authentication',
    help: 'Usually your email address for Gmail/SendGrid',
  },
  'smtp.auth_pass': {
    displayName: 'Password',
    description: 'SMTP authentication password',
    inputType: 'password',
    valueType: 'string',
    rules: { required: true, minLength: 8 },
    required: true,
    group: 'Authentication',
    help: 'Use App Password for Gmail, API Key for SendGrid',
  },
};

/** KeyMetadata rows from the specs above. */
function metadataRows(): KeyMetadata[] {
  return Object.entries(METADATA).map(([key, m], i) => ({
    key,
    category: categoryOf(key),
    displayName: m.displayName,
    description: m.description ?? m.help,
    inputType: m.inputType,
    valueType: m.valueType,
    validationRules: m.rules ?? {},
    defaultValue: m.defaultValue ?? null,
    isRequired: m.required ?? false,
    sortOrder: i + 1,
    groupName: m.group,
    helpText: m.help,
  }));
}

const ADMIN = ['admin_capable', 'config_write'];

function user(
  id: string,
  displayName: string,
  tenantId: string,
  department: string | null,
  groups: string[],
  traits: string[] = [],
): DirectoryUser {
  const domain = tenantId === 'mercy_hospital' ? 'mercy.example.org' : 'general.example.org';
  return {
    id,
    displayName,
    tenantId,
    department,
    groups,
    traits,
    email: `${id}@${domain}`,
    dbRole: null,
  };
}

/** The directory: two hospitals, their departments, groups (ordered memberships) and users. */
function directory(): Directory {
  return {
    tenants: [
      { id: 'mercy_hospital', name: 'Mercy Hospital', tenantType: 'healthcare' },
      { id: 'general_hospital', name: 'General Hospital', tenantType: 'healthcare' },
    ],
    departments: [
      { tenantId: 'mercy_hospital', id: 'medical', name: 'Medical' },
      { tenantId: 'mercy_hospital', id: 'marketing', name: 'Marketing' },
      { tenantId: 'mercy_hospital', id: 'it', name: 'IT' },
      { tenantId: 'general_hospital', id: 'medical', name: 'Medical' },
      { tenantId: 'general_hospital', id: 'administration', name: 'Administration' },
    ],
    groups: [
      {
        id: 'emergency_doctors_group',
        tenantId: 'mercy_hospital',
        department: 'medical',
        name: 'Emergency doctors',
      },
      { id: 'doctors', tenantId: 'mercy_hospital', department: 'medical', name: 'Doctors' },
      { id: 'nurses', tenantId: 'mercy_hospital', department: 'medical', name: 'Nurses' },
      {
        id: 'marketing_team',
        tenantId: 'mercy_hospital',
        department: 'marketing',
        name: 'Marketing team',
      },
      { id: 'admins', tenantId: 'mercy_hospital', department: 'it', name: 'IT admins' },
      { id: 'gh_doctors', tenantId: 'general_hospital', department: 'medical', name: 'Doctors' },
      { id: 'gh_nurses', tenantId: 'general_hospital', department: 'medical', name: 'Nurses' },
      { id: 'gh_oncall', tenantId: 'general_hospital', department: null, name: 'On-call staff' },
      {
        id: 'gh_admins',
        tenantId: 'general_hospital',
        department: 'administration',
        name: 'Administrators',
      },
    ],
    users: [
      user(
        'superadmin',
        'Sam Okafor',
        'mercy_hospital',
        'it',
        ['admins'],
        [...ADMIN, 'super_admin'],
      ),
      user(
        'mercy_admin',
        'Maria Lopez',
        'mercy_hospital',
        'it',
        ['admins'],
        [...ADMIN, 'tenant_admin'],
      ),
      user(
        'general_admin',
        'Grace Chen',
        'general_hospital',
        'administration',
        ['gh_admins'],
        [...ADMIN, 'tenant_admin'],
      ),
      user(
        'medical_admin',
        'Dr. Priya Raman',
        'mercy_hospital',
        'medical',
        ['doctors'],
        [...ADMIN, 'dept_admin'],
      ),
      user(
        'marketing_lead',
        'Tom Becker',
        'mercy_hospital',
        'marketing',
        ['marketing_team'],
        ['admin_capable'],
      ),
      user(
        'it_ivan',
        'Ivan Petrov',
        'mercy_hospital',
        'it',
        ['admins'],
        ['admin_capable', 'config_write'],
      ),
      user('user123', 'Dr. Alex Kim', 'mercy_hospital', 'medical', [
        'emergency_doctors_group',
        'doctors',
      ]),
      user('dr_grey', 'Dr. Meredith Grey', 'mercy_hospital', 'medical', [
        'emergency_doctors_group',
        'doctors',
      ]),
      user('dr_house', 'Dr. Gregory House', 'mercy_hospital', 'medical', [
        'doctors',
        'emergency_doctors_group',
      ]),
      user('dr_shepherd', 'Dr. Derek Shepherd', 'mercy_hospital', 'medical', ['doctors']),
      user('nurse_joy', 'Joy Adeyemi', 'mercy_hospital', 'medical', ['nurses']),
      user('nurse_jackie', 'Jackie Peyton', 'mercy_hospital', 'medical', ['nurses', 'doctors']),
      user('mkt_anna', 'Anna Novak', 'mercy_hospital', 'marketing', ['marketing_team']),
      user('mkt_ben', 'Ben Carter', 'mercy_hospital', 'marketing', ['marketing_team']),
      user('gh_dr_patel', 'Dr. Nisha Patel', 'general_hospital', 'medical', ['gh_doctors']),
      user('gh_dr_osei', 'Dr. Kwame Osei', 'general_hospital', 'medical', [
        'gh_oncall',
        'gh_doctors',
      ]),
      user('gh_nurse_lee', 'Min-ji Lee', 'general_hospital', 'medical', ['gh_nurses']),
      user('gh_nurse_diaz', 'Lucia Diaz', 'general_hospital', 'medical', [
        'gh_nurses',
        'gh_oncall',
      ]),
      user('gh_clerk_fox', 'Oliver Fox', 'general_hospital', 'administration', ['gh_admins']),
      user('contractor_zoe', 'Zoe Martin', 'general_hospital', null, []),
    ],
  };
}

type Row = [level: Level, scope: string, key: string, value: string, locked?: boolean];

// The seed's example INSERTs, typed, plus the dotted keys of its key mapping and templates.
const VALUES: Row[] = [
  ['global', '', 'fax_backend', 'phaxio'],
  ['global', '', 'hipaa_mode', 'false'],
  ['global', '', 'email_gateway_enabled', 'false'],
  ['global', '', 'max_file_size_mb', '10'],
  ['global', '', 'notification_urgency', 'normal'],
  ['global', '', 'fax.backend.provider', 'phaxio'],
  ['global', '', 'compliance.hipaa.enabled', 'false'],
  ['global', '', 'compliance.hipaa.audit_level', 'standard'],
  ['global', '', 'features.email_gateway.enabled', 'false'],
  ['global', '', 'features.phi_access.enabled', 'false'],
  ['global', '', 'features.admin_tools.enabled', 'false'],
  ['global', '', 'uploads.max_size_mb', '10'],
  ['global', '', 'ui.theme', 'neutral'],
  ['global', '', 'ui.terminology', 'standard'],
  ['global', '', 'notifications.compliance_alerts', 'false'],
  ['global', '', 'notifications.marketing_features', 'false'],
  ['global', '', 'providers.phaxio.api_key', 'demo-global-phaxio-key-0001'],
  ['global', '', 'providers.phaxio.api_secret', 'demo-global-phaxio-secret-0001'],
  ['global', '', 'security.default_api_key', 'demo-default-api-key-0000000001'],

  ['tenant', 'mercy_hospital', 'fax_backend', 'phaxio'],
  ['tenant', 'mercy_hospital', 'hipaa_mode', 'true'],
  ['tenant', 'mercy_hospital', 'organization_name', 'Mercy Hospital Network'],
  ['tenant', 'mercy_hospital', 'branding_color', '#2E7D99'],
  ['tenant', 'mercy_hospital', 'fax.backend.provider', 'phaxio'],
  ['tenant', 'mercy_hospital', 'compliance.hipaa.enabled', 'true'],
  ['tenant', 'mercy_hospital', 'compliance.hipaa.audit_level', 'maximum'],
  ['tenant', 'mercy_hospital', 'features.email_gateway.enabled', 'false'],
  ['tenant', 'mercy_hospital', 'features.phi_access.enabled', 'true'],
  ['tenant', 'mercy_hospital', 'ui.theme', 'medical'],
  ['tenant', 'mercy_hospital', 'ui.terminology', 'clinical'],
  ['tenant', 'mercy_hospital', 'notifications.compliance_alerts', 'true'],
  ['tenant', 'mercy_hospital', 'providers.phaxio.api_key', 'demo-mercy-phaxio-key-0002'],

  ['tenant', 'general_hospital', 'fax_backend', 'sip'],
  ['tenant', 'general_hospital', 'hipaa_mode', 'true'],
  ['tenant', 'general_hospital', 'organization_name', 'General Hospital'],
  ['tenant', 'general_hospital', 'branding_color', '#5B2C6F'],
  // Locked: every department, group and user of General Hospital faxes over SIP.
  ['tenant', 'general_hospital', 'fax.backend.provider', 'sip', true],
  ['tenant', 'general_hospital', 'compliance.hipaa.enabled', 'true'],
  ['tenant', 'general_hospital', 'compliance.hipaa.audit_level', 'maximum'],
  ['tenant', 'general_hospital', 'features.phi_access.enabled', 'true'],
  ['tenant', 'general_hospital', 'ui.theme', 'medical'],
  ['tenant', 'general_hospital', 'ui.terminology', 'clinical'],
  ['tenant', 'general_hospital', 'notifications.compliance_alerts', 'true'],
  ['tenant', 'general_hospital', 'providers.sip.host', 'sip.general-hospital.example'],
  ['tenant', 'general_hospital', 'providers.sip.port', '5061'],
  ['tenant', 'general_hospital', 'providers.sip.password', 'demo-general-sip-password'],

  ['department', 'mercy_hospital/medical', 'hipaa_mode', 'true'],
  ['department', 'mercy_hospital/medical', 'phi_access_enabled', 'true'],
  ['department', 'mercy_hospital/medical', 'email_gateway_enabled', 'false'],
  ['department', 'mercy_hospital/marketing', 'hipaa_mode', 'false'],
  ['department', 'mercy_hospital/marketing', 'phi_access_enabled', 'false'],
  ['department', 'mercy_hospital/marketing', 'email_gateway_enabled', 'true'],
  ['department', 'mercy_hospital/marketing', 'compliance.hipaa.enabled', 'false'],
  ['department', 'mercy_hospital/marketing', 'features.email_gateway.enabled', 'true'],
  ['department', 'mercy_hospital/marketing', 'features.phi_access.enabled', 'false'],
  ['department', 'mercy_hospital/marketing', 'ui.theme', 'business'],
  ['department', 'mercy_hospital/marketing', 'ui.terminology', 'standard'],
  ['department', 'mercy_hospital/marketing', 'notifications.marketing_features', 'true'],
  ['department', 'mercy_hospital/it', 'features.email_gateway.enabled', 'true'],
  ['department', 'mercy_hospital/it', 'features.admin_tools.enabled', 'true'],
  ['department', 'mercy_hospital/it', 'uploads.max_size_mb', '100'],
  ['department', 'general_hospital/medical', 'uploads.max_size_mb', '25'],

  ['group', 'emergency_doctors_group', 'fax_backend', 'sip'],
  ['group', 'emergency_doctors_group', 'priority_processing', 'true'],
  ['group', 'emergency_doctors_group', 'notification_urgency', 'high'],
  ['group', 'emergency_doctors_group', 'fax.backend.provider', 'sip'],
  ['group', 'doctors', 'notification_urgency', 'normal'],
  ['group', 'doctors', 'priority_processing', 'false'],
  ['group', 'nurses', 'notification_urgency', 'normal'],
  ['group', 'admins', 'features.admin_tools.enabled', 'true'],
  ['group', 'marketing_team', 'uploads.max_size_mb', '50'],
  ['group', 'gh_oncall', 'priority_processing', 'true'],
  ['group', 'gh_oncall', 'notification_urgency', 'high'],
  ['group', 'gh_oncall', 'fax.backend.provider', 'phaxio'],
  ['group', 'gh_doctors', 'notification_urgency', 'normal'],

  ['user', 'user123', 'ui.theme', 'dark'],
  ['user', 'user123', 'max_file_size_mb', '25'],
  ['user', 'dr_house', 'notification_urgency', 'low'],
  ['user', 'mkt_anna', 'features.email_gateway.enabled', 'false'],
  ['user', 'nurse_joy', 'notifications.compliance_alerts', 'false'],
];

/** Builds the hospital network dataset (fresh objects on every call). */
export function hospitalNetwork(): DemoDataset {
  // A database holds one metadata row per key: for keys the built-in templates describe, their
  // metadata is the source of truth, so the demo and a later `template seed` never disagree.
  const fromTemplates = new Map<string, KeyMetadata>();
  for (const def of loadBuiltinTemplatesSync()) {
    for (const m of templateKeyMetadata(def))
      if (!fromTemplates.has(m.key)) fromTemplates.set(m.key, m);
  }
  const metadata = metadataRows().map((m) => fromTemplates.get(m.key) ?? m);
  const metaByKey = new Map(metadata.map((m) => [m.key, m]));
  const entries: DemoEntry[] = VALUES.map(([level, scope, key, value, locked]) => {
    const meta = metaByKey.get(key);
    return {
      level,
      scope,
      key,
      value,
      valueType: meta?.valueType ?? 'string',
      locked: locked ?? false,
      secret: isSecretKey(key, meta),
    };
  });
  return { directory: directory(), metadata, entries };
}
