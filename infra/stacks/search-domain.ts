// The OpenSearch Service domain of `-c search=opensearch`: a small encrypted domain reached over
// HTTPS only, by SigV4-signed requests of two roles only (the indexer writes, the read API reads).
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import { EbsDeviceVolumeType } from 'aws-cdk-lib/aws-ec2';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import { CfnResourcePolicy, LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type CfnDomain, Domain, EngineVersion, TLSSecurityPolicy } from 'aws-cdk-lib/aws-opensearchservice';
import { Construct } from 'constructs';
import { OPENSEARCH_READER_ACTIONS, OPENSEARCH_WRITER_ACTIONS } from '#shared/search/opensearch/domain';
import { ITEMS_INDEX } from '#shared/search/opensearch/template';

export interface SearchDomainOptions {
  /** The domain's name, which `faultline search status --domain` takes. @default faultline-search */
  readonly domainName?: string;
  /** @default t3.small.search (about $26/month for one node with 10 GB of gp3) */
  readonly instanceType?: string;
  /** Data nodes. @default 1, or 2 with zone awareness */
  readonly nodes?: number;
  /** Spread the nodes over two Availability Zones (with a replica of the index in the other). @default false */
  readonly zoneAwareness?: boolean;
  /** gp3 storage per node, in GiB. @default 10 */
  readonly volumeGib?: number;
}

export interface SearchDomainProps extends SearchDomainOptions {
  /** The indexer's role: reads and writes the index (and puts its template). */
  readonly writer: IRole;
  /** The read API's role: searches and counts the index. */
  readonly reader: IRole;
}

export const DEFAULT_SEARCH_DOMAIN_NAME = 'faultline-search';
export const DEFAULT_SEARCH_INSTANCE_TYPE = 't3.small.search';

export class SearchDomain extends Construct {
  readonly domain: Domain;
  /** The HTTPS endpoint (without scheme) the engine's client signs requests for. */
  readonly endpoint: string;
  readonly logGroups: LogGroup[];

  constructor(scope: Construct, id: string, props: SearchDomainProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const domainName = props.domainName ?? DEFAULT_SEARCH_DOMAIN_NAME;
    const zoneAwareness = props.zoneAwareness ?? false;
    const nodes = props.nodes ?? (zoneAwareness ? 2 : 1);
    if (!Number.isInteger(nodes) || nodes < 1)
      throw new Error(`search nodes must be a whole number ≥ 1, not ${nodes}`);
    if (zoneAwareness && nodes % 2 !== 0) {
      throw new Error(`with zone awareness over two zones the search nodes must be even, not ${nodes}`);
    }

    const logGroup = (name: string) =>
      new LogGroup(this, name, {
        retention: RetentionDays.ONE_MONTH,
        // Logs are operational, not product data: they go with the stack.
        removalPolicy: RemovalPolicy.DESTROY,
      });
    const slowSearchLogGroup = logGroup('SlowSearchLogs');
    const slowIndexLogGroup = logGroup('SlowIndexLogs');
    const appLogGroup = logGroup('ApplicationLogs');
    this.logGroups = [slowSearchLogGroup, slowIndexLogGroup, appLogGroup];
    // A CloudFormation resource policy rather than the library's default, which is a custom resource
    // (a Lambda function of its own) calling the CloudWatch Logs API.
    const logsPolicy = new CfnResourcePolicy(this, 'LogsResourcePolicy', {
      policyName: `${domainName}-logs`,
      policyDocument: stack.toJsonString({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'es.amazonaws.com' },
            Action: ['logs:PutLogEvents', 'logs:CreateLogStream'],
            Resource: this.logGroups.map((group) => group.logGroupArn),
            Condition: { StringEquals: { 'aws:SourceAccount': stack.account } },
          },
        ],
      }),
    });

    this.domain = new Domain(this, 'Domain', {
      domainName,
      // The newest 2.x: t3 instances run it; Faultline's template and queries use nothing newer.
      version: EngineVersion.OPENSEARCH_2_19,
      capacity: {
        dataNodeInstanceType: props.instanceType ?? DEFAULT_SEARCH_INSTANCE_TYPE,
        dataNodes: nodes,
        // Standby needs three zones and more expensive instances than t3.
        multiAzWithStandbyEnabled: false,
      },
      zoneAwareness: zoneAwareness ? { enabled: true, availabilityZoneCount: 2 } : { enabled: false },
      ebs: { enabled: true, volumeSize: props.volumeGib ?? 10, volumeType: EbsDeviceVolumeType.GP3 },
      encryptionAtRest: { enabled: true },
      nodeToNodeEncryption: true,
      enforceHttps: true,
      tlsSecurityPolicy: TLSSecurityPolicy.TLS_1_2,
      logging: {
        slowSearchLogEnabled: true,
        slowSearchLogGroup,
        slowIndexLogEnabled: true,
        slowIndexLogGroup,
        appLogEnabled: true,
        appLogGroup,
      },
      suppressLogsResourcePolicy: true,
      enableVersionUpgrade: true,
      // The index is derived data: `faultline search reindex` rebuilds it from the items table.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.domain.node.addDependency(logsPolicy);
    this.endpoint = this.domain.domainEndpoint;

    // Set on the domain itself rather than through the library's access-policy custom resource (a
    // Lambda function calling UpdateDomainConfig). The ARN is written out because a domain's
    // policy cannot reference the domain's own attributes.
    const domainArn = stack.formatArn({ service: 'es', resource: 'domain', resourceName: domainName });
    (this.domain.node.defaultChild as CfnDomain).accessPolicies = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: props.writer.roleArn },
          Action: OPENSEARCH_WRITER_ACTIONS.map((action) => `es:${action}`),
          // Its template (`_index_template/…`), the bulk API (`_bulk`) and the index.
          Resource: `${domainArn}/*`,
        },
        {
          Effect: 'Allow',
          Principal: { AWS: props.reader.roleArn },
          Action: OPENSEARCH_READER_ACTIONS.map((action) => `es:${action}`),
          // `_search` and `_count` of the items index only.
          Resource: `${domainArn}/${ITEMS_INDEX}/*`,
        },
      ],
    };
  }
}
