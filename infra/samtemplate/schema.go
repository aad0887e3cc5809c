package samtemplate

// The hand-kept allowlists the checker validates against. For the SAM types
// they list every property SAM knows (typed where shiprelay uses them); for
// the CloudFormation-native types they follow the CloudFormation resource
// specification (property names, primitive types, required properties and
// the documented ranges). Add to them when the template starts using
// something new, after checking the AWS documentation.

type kind int

const (
	kAny kind = iota
	kString
	kInteger
	kDouble
	kBoolean
	kJSON
	kList
	kMap
	kStruct
)

type propType struct {
	kind   kind
	elem   *propType
	fields map[string]field
	enum   []string
	min    *int
	max    *int
}

type field struct {
	t        *propType
	required bool
}

func anyT() *propType              { return &propType{kind: kAny} }
func str() *propType               { return &propType{kind: kString} }
func integer() *propType           { return &propType{kind: kInteger} }
func double() *propType            { return &propType{kind: kDouble} }
func boolean() *propType           { return &propType{kind: kBoolean} }
func jsonT() *propType             { return &propType{kind: kJSON} }
func listOf(e *propType) *propType { return &propType{kind: kList, elem: e} }
func mapOf(e *propType) *propType  { return &propType{kind: kMap, elem: e} }
func enum(values ...string) *propType {
	return &propType{kind: kString, enum: values}
}
func intRange(lo, hi int) *propType { return &propType{kind: kInteger, min: &lo, max: &hi} }

// obj builds a struct type; a field name ending in "!" is required.
func obj(fields map[string]*propType) *propType {
	t := &propType{kind: kStruct, fields: map[string]field{}}
	for name, ft := range fields {
		req := false
		if len(name) > 0 && name[len(name)-1] == '!' {
			name, req = name[:len(name)-1], true
		}
		t.fields[name] = field{t: ft, required: req}
	}
	return t
}

var tagList = listOf(obj(map[string]*propType{"Key!": str(), "Value!": str()}))

// resourceSchema describes one resource type.
type resourceSchema struct {
	props *propType
	// attrs are the attributes Fn::GetAtt may read.
	attrs []string
}

var dynamoKeySchema = listOf(obj(map[string]*propType{
	"AttributeName!": str(),
	"KeyType!":       enum("HASH", "RANGE"),
}))

var dynamoProjection = obj(map[string]*propType{
	"NonKeyAttributes": listOf(str()),
	"ProjectionType":   enum("ALL", "KEYS_ONLY", "INCLUDE"),
})

var dynamoThroughput = obj(map[string]*propType{
	"ReadCapacityUnits!":  integer(),
	"WriteCapacityUnits!": integer(),
})

var dynamoOnDemand = obj(map[string]*propType{
	"MaxReadRequestUnits":  integer(),
	"MaxWriteRequestUnits": integer(),
})

var dynamoWarm = obj(map[string]*propType{
	"ReadUnitsPerSecond":  integer(),
	"WriteUnitsPerSecond": integer(),
})

var contributorInsights = obj(map[string]*propType{"Enabled!": boolean(), "Mode": str()})

// cfnSchemas are the CloudFormation-native resource types the template may use.
var cfnSchemas = map[string]*resourceSchema{
	TypeTable: {
		attrs: []string{"Arn", "StreamArn"},
		props: obj(map[string]*propType{
			"AttributeDefinitions": listOf(obj(map[string]*propType{
				"AttributeName!": str(),
				"AttributeType!": enum("S", "N", "B"),
			})),
			"BillingMode":                      enum("PROVISIONED", "PAY_PER_REQUEST"),
			"ContributorInsightsSpecification": contributorInsights,
			"DeletionProtectionEnabled":        boolean(),
			"GlobalSecondaryIndexes": listOf(obj(map[string]*propType{
				"IndexName!":                       str(),
				"KeySchema!":                       dynamoKeySchema,
				"Projection!":                      dynamoProjection,
				"ProvisionedThroughput":            dynamoThroughput,
				"ContributorInsightsSpecification": contributorInsights,
				"OnDemandThroughput":               dynamoOnDemand,
				"WarmThroughput":                   dynamoWarm,
			})),
			"ImportSourceSpecification": jsonT(),
			"KeySchema!":                dynamoKeySchema,
			"KinesisStreamSpecification": obj(map[string]*propType{
				"StreamArn!":                           str(),
				"ApproximateCreationDateTimePrecision": enum("MILLISECOND", "MICROSECOND"),
			}),
			"LocalSecondaryIndexes": listOf(obj(map[string]*propType{
				"IndexName!":  str(),
				"KeySchema!":  dynamoKeySchema,
				"Projection!": dynamoProjection,
			})),
			"OnDemandThroughput": dynamoOnDemand,
			"PointInTimeRecoverySpecification": obj(map[string]*propType{
				"PointInTimeRecoveryEnabled": boolean(),
				"RecoveryPeriodInDays":       intRange(1, 35),
			}),
			"ProvisionedThroughput": dynamoThroughput,
			"ResourcePolicy":        obj(map[string]*propType{"PolicyDocument!": jsonT()}),
			"SSESpecification": obj(map[string]*propType{
				"SSEEnabled!":    boolean(),
				"SSEType":        enum("AES256", "KMS"),
				"KMSMasterKeyId": str(),
			}),
			"StreamSpecification": obj(map[string]*propType{
				"StreamViewType!": enum("KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"),
				"ResourcePolicy":  obj(map[string]*propType{"PolicyDocument!": jsonT()}),
			}),
			"TableClass": enum("STANDARD", "STANDARD_INFREQUENT_ACCESS"),
			"TableName":  str(),
			"Tags":       tagList,
			"TimeToLiveSpecification": obj(map[string]*propType{
				"AttributeName": str(),
				"Enabled!":      boolean(),
			}),
			"WarmThroughput": dynamoWarm,
		}),
	},
	TypeQueue: {
		attrs: []string{"Arn", "QueueName", "QueueUrl"},
		props: obj(map[string]*propType{
			"ContentBasedDeduplication":     boolean(),
			"DeduplicationScope":            enum("messageGroup", "queue"),
			"DelaySeconds":                  intRange(0, 900),
			"FifoQueue":                     boolean(),
			"FifoThroughputLimit":           enum("perQueue", "perMessageGroupId"),
			"KmsDataKeyReusePeriodSeconds":  intRange(60, 86400),
			"KmsMasterKeyId":                str(),
			"MaximumMessageSize":            intRange(1024, 1048576),
			"MessageRetentionPeriod":        intRange(60, 1209600),
			"QueueName":                     str(),
			"ReceiveMessageWaitTimeSeconds": intRange(0, 20),
			"RedriveAllowPolicy":            jsonT(),
			"RedrivePolicy":                 jsonT(),
			"SqsManagedSseEnabled":          boolean(),
			"Tags":                          tagList,
			"VisibilityTimeout":             intRange(0, 43200),
		}),
	},
	TypeAlarm: {
		attrs: []string{"Arn"},
		props: obj(map[string]*propType{
			"ActionsEnabled":                   boolean(),
			"AlarmActions":                     listOf(str()),
			"AlarmDescription":                 str(),
			"AlarmName":                        str(),
			"ComparisonOperator!":              enum("GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold", "LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold"),
			"DatapointsToAlarm":                integer(),
			"Dimensions":                       listOf(obj(map[string]*propType{"Name!": str(), "Value!": str()})),
			"EvaluateLowSampleCountPercentile": str(),
			"EvaluationPeriods!":               integer(),
			"ExtendedStatistic":                str(),
			"InsufficientDataActions":          listOf(str()),
			"MetricName":                       str(),
			"Namespace":                        str(),
			"OKActions":                        listOf(str()),
			"Period":                           integer(),
			"Statistic":                        enum("SampleCount", "Average", "Sum", "Minimum", "Maximum"),
			"Threshold":                        integer(),
			"TreatMissingData":                 enum("breaching", "notBreaching", "ignore", "missing"),
			"Unit":                             str(),
		}),
	},
	TypeQueuePolicy: {
		attrs: []string{"Id"},
		props: obj(map[string]*propType{
			"PolicyDocument!": jsonT(),
			"Queues!":         listOf(str()),
		}),
	},
	TypeLogGroup: {
		attrs: []string{"Arn"},
		props: obj(map[string]*propType{
			"DataProtectionPolicy":   jsonT(),
			"FieldIndexPolicies":     listOf(jsonT()),
			"KmsKeyId":               str(),
			"LogGroupClass":          enum("STANDARD", "INFREQUENT_ACCESS", "DELIVERY"),
			"LogGroupName":           str(),
			"ResourcePolicyDocument": jsonT(),
			"RetentionInDays":        integer(),
			"Tags":                   tagList,
		}),
	},
}

// redrivePolicySchema is the JSON shape of an SQS RedrivePolicy.
var redrivePolicySchema = obj(map[string]*propType{
	"deadLetterTargetArn!": str(),
	"maxReceiveCount!":     intRange(1, 1000),
})

// functionProps lists every AWS::Serverless::Function property.
var functionProps = map[string]*propType{
	"Architectures":                 listOf(enum("x86_64", "arm64")),
	"AssumeRolePolicyDocument":      jsonT(),
	"AutoPublishAlias":              str(),
	"AutoPublishAliasAllProperties": boolean(),
	"AutoPublishCodeSha256":         str(),
	"CapacityProviderConfig":        anyT(),
	"CodeSigningConfigArn":          str(),
	"CodeUri":                       anyT(),
	"DeadLetterQueue":               obj(map[string]*propType{"Type!": enum("SQS", "SNS"), "TargetArn!": str()}),
	"DeploymentPreference":          anyT(),
	"Description":                   str(),
	"DurableConfig":                 anyT(),
	"Environment":                   obj(map[string]*propType{"Variables": mapOf(str())}),
	"EphemeralStorage":              obj(map[string]*propType{"Size!": intRange(512, 10240)}),
	"EventInvokeConfig": obj(map[string]*propType{
		"DestinationConfig":        anyT(),
		"MaximumEventAgeInSeconds": intRange(60, 21600),
		"MaximumRetryAttempts":     intRange(0, 2),
	}),
	"Events":                anyT(), // checked event by event
	"FileSystemConfigs":     anyT(),
	"FunctionName":          str(),
	"FunctionScalingConfig": anyT(),
	"FunctionUrlConfig":     anyT(),
	"Handler":               str(),
	"ImageConfig":           anyT(),
	"ImageUri":              str(),
	"InlineCode":            str(),
	"KmsKeyArn":             str(),
	"Layers":                listOf(str()),
	"LoggingConfig": obj(map[string]*propType{
		"ApplicationLogLevel": enum("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"),
		"LogFormat":           enum("Text", "JSON"),
		"LogGroup":            str(),
		"SystemLogLevel":      enum("DEBUG", "INFO", "WARN"),
	}),
	"MemorySize":                   intRange(128, 10240),
	"PackageType":                  enum("Zip", "Image"),
	"PermissionsBoundary":          str(),
	"Policies":                     anyT(), // checked by checkPolicies
	"PropagateTags":                boolean(),
	"ProvisionedConcurrencyConfig": anyT(),
	"PublishToLatestPublished":     anyT(),
	"RecursiveLoop":                enum("Allow", "Terminate"),
	"ReservedConcurrentExecutions": integer(),
	"Role":                         str(),
	"RolePath":                     str(),
	"Runtime":                      str(),
	"RuntimeManagementConfig":      anyT(),
	"SnapStart":                    anyT(),
	"SourceKMSKeyArn":              str(),
	"Tags":                         mapOf(str()),
	"TenancyConfig":                anyT(),
	"Timeout":                      intRange(1, 900),
	"Tracing":                      enum("Active", "PassThrough", "Disabled"),
	"VersionDeletionPolicy":        anyT(),
	"VersionDescription":           str(),
	"VpcConfig":                    anyT(),
}

// globalsFunctionKeys are the Function properties SAM accepts in Globals
// (samtranslator/plugins/globals/globals.py).
var globalsFunctionKeys = []string{
	"Handler", "Runtime", "CodeUri", "DeadLetterQueue", "Description", "MemorySize", "Timeout", "VpcConfig",
	"Environment", "Tags", "PropagateTags", "Tracing", "KmsKeyArn", "AutoPublishAlias",
	"AutoPublishAliasAllProperties", "Layers", "DeploymentPreference", "RolePath", "PermissionsBoundary",
	"ReservedConcurrentExecutions", "ProvisionedConcurrencyConfig", "AssumeRolePolicyDocument",
	"EventInvokeConfig", "FileSystemConfigs", "CodeSigningConfigArn", "Architectures", "SnapStart",
	"EphemeralStorage", "FunctionUrlConfig", "RuntimeManagementConfig", "LoggingConfig", "RecursiveLoop",
	"SourceKMSKeyArn",
}

// globalsHttpApiKeys are the HttpApi properties SAM accepts in Globals.
var globalsHttpApiKeys = []string{
	"Auth", "AccessLogSettings", "StageVariables", "Tags", "CorsConfiguration", "DefaultRouteSettings",
	"Domain", "RouteSettings", "FailOnWarnings", "PropagateTags",
}

// globalsSections are the Globals sections SAM knows.
var globalsSections = []string{"Function", "Api", "HttpApi", "SimpleTable", "StateMachine", "LayerVersion", "CapacityProvider"}

var routeSettings = obj(map[string]*propType{
	"DataTraceEnabled":       boolean(),
	"DetailedMetricsEnabled": boolean(),
	"LoggingLevel":           enum("INFO", "ERROR", "OFF"),
	"ThrottlingBurstLimit":   integer(),
	"ThrottlingRateLimit":    double(),
})

// httpApiProps lists every AWS::Serverless::HttpApi property.
var httpApiProps = map[string]*propType{
	"AccessLogSettings":         obj(map[string]*propType{"DestinationArn!": str(), "Format!": str()}),
	"Auth":                      anyT(),
	"CorsConfiguration":         anyT(),
	"DefaultRouteSettings":      routeSettings,
	"DefinitionBody":            jsonT(),
	"DefinitionUri":             anyT(),
	"Description":               str(),
	"DisableExecuteApiEndpoint": boolean(),
	"Domain":                    anyT(),
	"FailOnWarnings":            boolean(),
	"Name":                      str(),
	"PropagateTags":             boolean(),
	"RouteSettings":             mapOf(routeSettings),
	"StageName":                 str(),
	"StageVariables":            mapOf(str()),
	"Tags":                      mapOf(str()),
}

// eventProps lists the properties of the SAM event source types shiprelay uses.
var eventProps = map[string]*propType{
	"HttpApi": obj(map[string]*propType{
		"ApiId":                str(),
		"Auth":                 anyT(),
		"Method":               enum("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY", "get", "post", "put", "patch", "delete", "head", "options", "any"),
		"Path":                 str(),
		"PayloadFormatVersion": enum("1.0", "2.0"),
		"RouteSettings":        routeSettings,
		"TimeoutInMillis":      intRange(50, 30000),
	}),
	"SQS": obj(map[string]*propType{
		"Queue!":                         str(),
		"BatchSize":                      intRange(1, 10000),
		"Enabled":                        boolean(),
		"FilterCriteria":                 obj(map[string]*propType{"Filters": listOf(obj(map[string]*propType{"Pattern": str()}))}),
		"FunctionResponseTypes":          listOf(enum("ReportBatchItemFailures")),
		"KmsKeyArn":                      str(),
		"MaximumBatchingWindowInSeconds": intRange(0, 300),
		"MetricsConfig":                  obj(map[string]*propType{"Metrics": listOf(enum("EventCount"))}),
		"ProvisionedPollerConfig":        anyT(),
		"ScalingConfig":                  obj(map[string]*propType{"MaximumConcurrency": intRange(2, 1000)}),
	}),
	"Schedule": obj(map[string]*propType{
		"Schedule!":        str(),
		"Name":             str(),
		"Description":      str(),
		"Enabled":          boolean(),
		"State":            enum("ENABLED", "DISABLED"),
		"Input":            str(),
		"DeadLetterConfig": anyT(),
		"RetryPolicy": obj(map[string]*propType{
			"MaximumEventAgeInSeconds": intRange(60, 86400),
			"MaximumRetryAttempts":     intRange(0, 185),
		}),
	}),
}

// samSchemas are the SAM resource types and their GetAtt attributes.
var samSchemas = map[string]*resourceSchema{
	TypeFunction: {props: obj(functionProps), attrs: []string{"Arn", "SnapStartResponse", "SnapStartResponse.ApplyOn", "SnapStartResponse.OptimizationStatus"}},
	TypeHttpApi:  {props: obj(httpApiProps), attrs: []string{"ApiEndpoint", "ApiId"}},
}

// resourceAttributeKeys are the keys a resource entry may have.
var resourceAttributeKeys = []string{"Type", "Properties", "Metadata", "DependsOn", "Condition", "DeletionPolicy",
	"UpdateReplacePolicy", "UpdatePolicy", "CreationPolicy", "IgnoreGlobals"}

var topLevelKeys = []string{"AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Rules", "Mappings",
	"Conditions", "Transform", "Globals", "Resources", "Outputs"}

var parameterKeys = []string{"Type", "Default", "Description", "AllowedValues", "AllowedPattern", "MinLength",
	"MaxLength", "MinValue", "MaxValue", "ConstraintDescription", "NoEcho"}

var parameterTypes = []string{"String", "Number", "List<Number>", "CommaDelimitedList"}

var outputKeys = []string{"Description", "Value", "Export", "Condition"}

// buildMethods are the SAM BuildMethod values the project accepts for Go on
// provided.al2023.
var buildMethods = []string{"go1.x", "makefile"}

// policyTemplates are the SAM policy templates the checker knows, with their
// parameter and the IAM actions they grant (the Resource is the parameter's
// resource, resolved by templatePolicyTarget).
var policyTemplates = map[string]struct {
	param   string
	actions []string
}{
	"DynamoDBCrudPolicy": {"TableName", []string{"dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:PutItem",
		"dynamodb:Scan", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem", "dynamodb:BatchGetItem",
		"dynamodb:DescribeTable", "dynamodb:ConditionCheckItem"}},
	"DynamoDBReadPolicy": {"TableName", []string{"dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query",
		"dynamodb:BatchGetItem", "dynamodb:DescribeTable"}},
	"DynamoDBWritePolicy":  {"TableName", []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"}},
	"SQSSendMessagePolicy": {"QueueName", []string{"sqs:SendMessage*"}},
	"SQSPollerPolicy": {"QueueName", []string{"sqs:ChangeMessageVisibility", "sqs:ChangeMessageVisibilityBatch",
		"sqs:DeleteMessage", "sqs:DeleteMessageBatch", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"}},
	"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn", []string{"secretsmanager:GetSecretValue"}},
}

// starResourceActions are the only actions allowed with Resource "*": AWS
// supports no resource-level permission for them.
var starResourceActions = []string{
	"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
	"xray:GetSamplingStatisticSummaries", "cloudwatch:PutMetricData", "logs:CreateLogGroup",
	"ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface",
}

// reservedEnv are the environment variable names Lambda reserves.
var reservedEnv = []string{"_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION",
	"AWS_EXECUTION_ENV", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
	"AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME",
	"AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
	"AWS_SESSION_TOKEN", "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"}

// RequiredEnv lists, per function (the CodeUri directory name), the
// environment variables its code needs; the checker wants each declared
// (directly or through Globals). Every function also needs GlobalEnv.
var RequiredEnv = map[string][]string{
	"webhook": {"SHIPRELAY_TABLE", "SHIPRELAY_INGEST_QUEUE_URL", "SHIPRELAY_SHIPMENTS_QUEUE_URL"},
	"poll":    {"SHIPRELAY_TABLE", "SHIPRELAY_INGEST_QUEUE_URL", "SHIPRELAY_SHIPMENTS_QUEUE_URL"},
	// Its own queue (backoff, relinks) and the label replays of dedupe.
	"ingest":    {"SHIPRELAY_TABLE", "SHIPRELAY_PUSH_QUEUE_URL", "SHIPRELAY_INGEST_QUEUE_URL", "SHIPRELAY_SHIPMENTS_QUEUE_URL"},
	"push":      {"SHIPRELAY_TABLE", "SHIPRELAY_PUSH_QUEUE_URL"},
	"reconcile": {"SHIPRELAY_TABLE", "SHIPRELAY_PUSH_QUEUE_URL"},
	// The redaction sweep re-sends open ShipStation copies through push.
	"redact": {"SHIPRELAY_TABLE", "SHIPRELAY_PUSH_QUEUE_URL"},
	// Its own queue (backoff), one notify queue per channel kind
	// and ingest's, for the relink of a labelled order's identity.
	"shipments": {"SHIPRELAY_TABLE", "SHIPRELAY_SHIPMENTS_QUEUE_URL", "SHIPRELAY_NOTIFY_BIGCOMMERCE_QUEUE_URL", "SHIPRELAY_NOTIFY_AMAZON_QUEUE_URL", "SHIPRELAY_INGEST_QUEUE_URL"},
	// One notify function per channel kind: the channel it confirms on and
	// its own queue (backoff).
	"notify": {"SHIPRELAY_TABLE", "SHIPRELAY_NOTIFY_CHANNEL", "SHIPRELAY_NOTIFY_QUEUE_URL"},
	// Amazon's ORDER_CHANGE queue (its own, for backoff) and ingest's.
	"orderchange": {"SHIPRELAY_TABLE", "SHIPRELAY_ORDER_CHANGE_QUEUE_URL", "SHIPRELAY_INGEST_QUEUE_URL"},
}

// PlainEnv are the SHIPRELAY_* variables the template sets to a plain
// value, neither a queue URL (*_QUEUE_URL) nor the table, with the values
// the code accepts; the checker wants each such variable listed here, its
// value a literal (no Ref or other intrinsic) and one of those listed.
var PlainEnv = map[string][]string{
	// The channel a notify function confirms shipments on: shared/app's
	// "notify" handler knows a notifier for these order.Channel values.
	"SHIPRELAY_NOTIFY_CHANNEL": {"bigcommerce", "amazon"},
}

// TableActions lists, per function (the CodeUri directory name) whose code
// does not need DefaultTableActions, the DynamoDB actions it performs on the
// table SHIPRELAY_TABLE names; the checker wants each allowed. A function
// listed with no write action must not be granted any write on the table.
var TableActions = map[string][]string{
	// The sweep queries pending orders (gsi1) and exception records (gsi2).
	"reconcile": {"dynamodb:Query"},
	// Lists due orders (gsi3 Query), reads orders and labels (GetItem,
	// Query), redacts in one transaction (PutItem, UpdateItem).
	"redact": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"},
	// Records labels (Get/PutItem), resolves orderKeys, reads the order and
	// its notifications (GetItem, Query), plans notifications and records
	// exceptions in transactions (PutItem, UpdateItem), settles voided ones
	// (UpdateItem).
	"shipments": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"},
	// Reads the order, its notifications and the store status (GetItem,
	// Query), settles notifications and pauses stores (UpdateItem) and
	// records exceptions (PutItem, UpdateItem).
	"notify": {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"},
	// Claims NotificationIds (PutItem), releases a claim whose enqueue
	// failed (DeleteItem), records exceptions (PutItem).
	"orderchange": {"dynamodb:PutItem", "dynamodb:DeleteItem"},
}

// DefaultTableActions are the DynamoDB actions the checker wants allowed on
// the table for a function not listed in TableActions.
var DefaultTableActions = []string{"dynamodb:GetItem", "dynamodb:PutItem"}

// tableWriteActions are the DynamoDB actions that change items.
var tableWriteActions = []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
	"dynamodb:BatchWriteItem", "dynamodb:PartiQLInsert", "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete"}

// GlobalEnv are the variables every function needs.
var GlobalEnv = []string{"SHIPRELAY_CONFIG", "SHIPRELAY_LOG_LEVEL", "SHIPRELAY_METRICS_NAMESPACE"}

// LocalOnlyEnv are SHIPRELAY_* variables the code may read that only the
// local stack sets (never the template).
var LocalOnlyEnv = []string{"SHIPRELAY_SECRETS_FILE", "SHIPRELAY_AMAZON_SPEEDUP", "SHIPRELAY_CLOCK_SPEEDUP", "SHIPRELAY_CACHE", "SHIPRELAY_DYNAMODB_PORT",
	"SHIPRELAY_SQS_PORT", "SHIPRELAY_STACK_TIMEOUT"}
