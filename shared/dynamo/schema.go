package dynamo

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Names in the table schema.
const (
	// TTLAttribute is the table's time-to-live attribute, in epoch seconds.
	TTLAttribute = "ttl"
	// GSI1 lists a store's orders in one state, most recently updated first
	// (keys gsi1pk/gsi1sk).
	GSI1 = "gsi1"
	// GSI2 lists orders by ledger update time in day partitions, and
	// exceptions newest first (keys gsi2pk/gsi2sk).
	GSI2 = "gsi2"
	// GSI3 is the sparse index of orders due for redaction, by due time in
	// a few fixed shards (keys gsi3pk/gsi3sk, projection KEYS_ONLY): only
	// orders with a due time not yet redacted have its keys.
	GSI3 = "gsi3"
)

// Schema is the single table's definition: pk/sk (S) primary key, the GSIs
// gsi1 and gsi2 (S keys, projection ALL) and gsi3 (S keys, projection
// KEYS_ONLY) and on-demand billing. The time to
// live on TTLAttribute is not part of CreateTableInput; CreateTable enables
// it. The SAM template declares exactly this table.
func Schema(table string) *dynamodb.CreateTableInput {
	str := func(name string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(name), AttributeType: types.ScalarAttributeTypeS}
	}
	keys := func(hash, rng string) []types.KeySchemaElement {
		return []types.KeySchemaElement{
			{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(rng), KeyType: types.KeyTypeRange},
		}
	}
	all := &types.Projection{ProjectionType: types.ProjectionTypeAll}
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			str(attrPK), str(attrSK), str(attrGSI1PK), str(attrGSI1SK), str(attrGSI2PK), str(attrGSI2SK),
			str(attrGSI3PK), str(attrGSI3SK),
		},
		KeySchema: keys(attrPK, attrSK),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			{IndexName: aws.String(GSI1), KeySchema: keys(attrGSI1PK, attrGSI1SK), Projection: all},
			{IndexName: aws.String(GSI2), KeySchema: keys(attrGSI2PK, attrGSI2SK), Projection: all},
			{IndexName: aws.String(GSI3), KeySchema: keys(attrGSI3PK, attrGSI3SK), Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly}},
		},
	}
}

// CreateTable creates the ledger table called name as Schema describes it,
// waits until it is active and enables its time to live on TTLAttribute.
// Tests and the local stack use it; in AWS the SAM template creates the table.
func CreateTable(ctx context.Context, client *dynamodb.Client, name string) error {
	const op = "dynamo.CreateTable"
	if _, err := client.CreateTable(ctx, Schema(name)); err != nil {
		return classify(op, fmt.Errorf("table %s: %w", name, err))
	}
	w := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 100 * time.Millisecond
		o.MaxDelay = 5 * time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 5*time.Minute); err != nil {
		return classify(op, fmt.Errorf("table %s: wait active: %w", name, err))
	}
	_, err := client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(TTLAttribute),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return classify(op, fmt.Errorf("table %s: enable ttl: %w", name, err))
	}
	return nil
}

// NewClient builds a DynamoDB client from cfg. When AWS_ENDPOINT_URL_DYNAMODB
// is set (DynamoDB Local), it turns off response checksum validation:
// DynamoDB Local sends no X-Amz-Crc32 header on error responses and the SDK
// would log a checksum warning for each (aws/aws-sdk-go-v2#3545).
func NewClient(cfg aws.Config, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	fns := []func(*dynamodb.Options){func(o *dynamodb.Options) {
		if os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") != "" {
			o.DisableValidateResponseChecksum = true
		}
	}}
	return dynamodb.NewFromConfig(cfg, append(fns, optFns...)...)
}
