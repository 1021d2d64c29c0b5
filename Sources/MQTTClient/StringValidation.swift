import MQTT
import MQTTTopics

/// The checks on caller-supplied strings made before anything reaches the
/// encoder: a string the broker refuses would cost the whole connection.
enum StringValidation {
    static func topicName(_ topic: String) throws(MQTTClientError) {
        do { try Topic.validateName(topic) } catch { throw .invalidTopicName(topic, error) }
    }

    static func topicFilter(_ filter: String) throws(MQTTClientError) {
        do { try Topic.validateFilter(filter) } catch { throw .invalidTopicFilter(filter, error) }
    }

    /// MQTT strings must not contain U+0000 (§1.5.3), and a broker closes
    /// the connection over it. (`Topic`'s checks cover topics.)
    static func noNullCharacter(_ string: String) throws(MQTTClientError) {
        if string.utf8.contains(0) { throw .nullCharacter(in: string) }
    }
}
