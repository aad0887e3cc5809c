package dynamo

import (
	"context"
	"errors"
	"net"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/shiprelay/shiprelay/shared/errs"
)

// classify wraps err, an error from the DynamoDB client, with its errs kind:
// throttling, 5xx, transaction conflicts and network failures are
// Transient; a failed condition is Conflict (callers that give a condition
// another meaning handle it before calling classify); a rejected request is
// Invalid; bad credentials are Unauthorised. Anything else is Other, which
// the retry policy treats as transient.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	if errs.KindOf(err) != errs.Other {
		return err
	}
	return errs.E(kindOf(err), op, err)
}

func kindOf(err error) errs.Kind {
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		return cancelKind(tce)
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return errs.Conflict
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "ProvisionedThroughputExceededException", "RequestLimitExceeded", "ThrottlingException",
			"Throttling", "InternalServerError", "InternalFailure", "ServiceUnavailable",
			"TransactionConflictException", "TransactionInProgressException", "LimitExceededException":
			return errs.Transient
		case "ValidationException", "SerializationException", "ItemCollectionSizeLimitExceededException",
			"IdempotentParameterMismatchException", "DuplicateItemException":
			return errs.Invalid
		case "AccessDeniedException", "UnrecognizedClientException", "ExpiredTokenException",
			"InvalidSignatureException", "MissingAuthenticationTokenException", "IncompleteSignature":
			return errs.Unauthorised
		}
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) {
		switch c := status.HTTPStatusCode(); {
		case c == 429 || c >= 500:
			return errs.Transient
		case c == 401 || c == 403:
			return errs.Unauthorised
		}
	}
	var canceled *aws.RequestCanceledError
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.As(err, &canceled) || errors.As(err, &netErr) {
		return errs.Transient
	}
	return errs.Other
}

// cancelKind classifies a cancelled transaction by its worst reason.
func cancelKind(tce *types.TransactionCanceledException) errs.Kind {
	kind := errs.Other
	for _, r := range tce.CancellationReasons {
		switch aws.ToString(r.Code) {
		case "ValidationError", "ItemCollectionSizeLimitExceeded":
			return errs.Invalid
		case "ConditionalCheckFailed":
			kind = errs.Conflict
		case "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded":
			if kind == errs.Other {
				kind = errs.Transient
			}
		}
	}
	return kind
}

// raced reports whether err says a concurrent writer got there first: a
// failed condition or a transaction conflict. Loops re-read and decide
// again on it.
func raced(err error) bool {
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) {
		for _, r := range tce.CancellationReasons {
			switch aws.ToString(r.Code) {
			case "ConditionalCheckFailed", "TransactionConflict":
				return true
			}
		}
		return false
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return true
	}
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "TransactionConflictException"
}
