import Foundation

public final class IBGatewaySimulator: Sendable {
}
